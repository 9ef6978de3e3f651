import assert from 'node:assert/strict';
import { copyFile, readFile, rm, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { prngInt } from '../../../../disk/filters/prng.js';
import { RawFile } from '../../../../disk/raw.js';
import { Iso9660, IsoError } from '../../../../v2v/convert/windows/virtio-win/iso9660.js';
import { openVirtioWin } from '../../../../v2v/convert/windows/virtio-win/open.js';
import { scratch } from '../../../fixtures/cache.js';
import { flip, patch } from '../../../fixtures/patch.js';
import { run } from '../../../fixtures/run.js';
import { fakeBytes, VIRTIO_WIN_FILES, virtioWinIso, type IsoNames } from '../../images/virtio-win.js';

const LIMITS = { files: 10_000, depth: 16, directorySize: 1 << 20 };
const SECTOR = 2048;

async function list(iso: string): Promise<{ path: string; data: Buffer }[]> {
  const dev = await RawFile.open(iso);
  try {
    const r = await Iso9660.open(dev, iso);
    const files = await r.files(LIMITS);
    return Promise.all(files.map(async (f) => ({ path: f.path, data: await r.read(f) })));
  } finally {
    await dev.close();
  }
}

/** What xorriso lists as the files of an ISO, with Rock Ridge and Joliet reading off (the plain ISO 9660 names). */
async function xorrisoPlainNames(iso: string): Promise<string[]> {
  const out = await run('xorriso', ['-rockridge', 'off', '-indev', iso, '-find', '/', '-type', 'f']);
  return out.split('\n').filter((l) => l.startsWith("'")).map((l) => l.slice(2, -1)).sort();
}

describe('ISO 9660 reader against xorriso-made ISOs', () => {
  for (const names of ['joliet', 'rockridge', 'both'] as IsoNames[]) {
    test(`${names} names: every file with its name, case and bytes`, async () => {
      const files = await list(await virtioWinIso(names));
      assert.deepEqual(files.map((f) => f.path).sort(), [...VIRTIO_WIN_FILES].sort());
      for (const f of files) assert.ok(f.data.equals(fakeBytes(f.path)), f.path);
    });
  }

  test('plain ISO 9660 names: the names xorriso reads, the right bytes', async () => {
    const iso = await virtioWinIso('plain');
    const files = await list(iso);
    assert.deepEqual(files.map((f) => f.path).sort(), await xorrisoPlainNames(iso));
    const byUpper = new Map(VIRTIO_WIN_FILES.map((p) => [p.toUpperCase(), p]));
    // Names that survive the 8.3-style mapping upper-cased (the by-OS copies) must hold those files' bytes.
    const viostor = files.find((f) => f.path === 'AMD64/2K19/VIOSTOR.SYS')!;
    assert.ok(viostor.data.equals(fakeBytes(byUpper.get(viostor.path)!)));
  });

  test('through openVirtioWin: the same list and bytes as the directory', async () => {
    const src = await openVirtioWin(await virtioWinIso('joliet'));
    try {
      const files = await src.files();
      assert.equal(files.length, VIRTIO_WIN_FILES.length);
      const f = files.find((x) => x.path === 'NetKVM/2k19/amd64/netkvm.sys')!;
      assert.ok((await src.read(f)).equals(fakeBytes(f.path)));
    } finally {
      await src.close();
    }
  });
});

/** The Joliet tree's root directory record: its byte offset in the image (from the supplementary descriptor). */
function jolietRoot(img: Buffer): number {
  for (let s = 16; s < 32; s++) {
    const d = img.subarray(s * SECTOR, (s + 1) * SECTOR);
    if (d[0] === 2 && d.toString('latin1', 1, 6) === 'CD001') return s * SECTOR + 156;
  }
  throw new Error('no Joliet descriptor');
}

/** The records of the directory whose record is at `at`, with their byte offsets (without "." and ".."). */
function children(img: Buffer, at: number): { at: number; name: string; extent: number; dir: boolean }[] {
  const start = img.readUInt32LE(at + 2) * SECTOR;
  const size = img.readUInt32LE(at + 10);
  const out = [];
  for (let p = start; p < start + size; ) {
    const len = img[p]!;
    if (len === 0) {
      p = (Math.floor(p / SECTOR) + 1) * SECTOR;
      continue;
    }
    const nlen = img[p + 32]!;
    if (nlen > 1 || img[p + 33]! > 1) {
      out.push({ at: p, name: Buffer.from(img.subarray(p + 33, p + 33 + nlen)).swap16().toString('utf16le'), extent: img.readUInt32LE(p + 2), dir: (img[p + 25]! & 2) !== 0 });
    }
    p += len;
  }
  return out;
}

describe('ISO 9660 reader: damaged images give clear, bounded errors', () => {
  let dir: string;
  let good: string;
  let img: Buffer;
  before(async () => {
    dir = await scratch('iso-bad');
    good = await virtioWinIso('joliet');
    img = await readFile(good);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  async function damaged(name: string, damage: (path: string) => Promise<void>): Promise<string> {
    const path = join(dir, `${name}.iso`);
    await copyFile(good, path);
    await damage(path);
    return path;
  }
  const fails = async (path: string, message: RegExp) => {
    await assert.rejects(list(path), (e: Error) => {
      assert.ok(e instanceof IsoError, `${e.name}: ${e.message}`);
      assert.ok(e.message.startsWith(`${path}: ISO 9660 `), e.message);
      assert.match(e.message, message);
      assert.match(e.message, /\(at byte \d+\)$/);
      return true;
    });
  };

  test('truncated before the first descriptor, and not an ISO at all', async () => {
    await fails(await damaged('short', (p) => truncate(p, 20_000)), /ends before the first descriptor: not an ISO image \(at byte 32768\)/);
    await fails(await damaged('nocd001', (p) => patch(p, 16 * SECTOR + 1, Buffer.from('XXXXX'))), /no "CD001" identifier: not an ISO image \(at byte 32769\)/);
  });

  test('no set terminator: the walk stops at the first sector that is not a descriptor', async () => {
    const term = [...Array(8).keys()].map((i) => 16 + i).find((s) => img[s * SECTOR] === 255)!;
    await fails(await damaged('noterm', (p) => patch(p, term * SECTOR, [3])), new RegExp(`no "CD001" identifier in descriptor ${term - 15} \\(at byte ${(term + 1) * SECTOR + 1}\\)`));
  });

  test('a bad logical block size', async () => {
    await fails(await damaged('blocksize', (p) => patch(p, 16 * SECTOR + 128, [0x00, 0x03])), /logical block size 768/);
  });

  test('a file extent past the end of the image', async () => {
    const root = jolietRoot(img);
    const viostor = children(img, root).find((c) => c.name === 'viostor')!;
    const sub = children(img, viostor.at).find((c) => c.name === '2k19')!;
    const arch = children(img, sub.at).find((c) => c.name === 'amd64')!;
    const sys = children(img, arch.at).find((c) => c.name === 'viostor.sys;1' || c.name === 'viostor.sys')!;
    const at = sys.at + 2;
    const p = await damaged('extent', (path) => patch(path, at, [0xff, 0xff, 0xff, 0x0f]));
    await fails(p, new RegExp(`extent at block ${0x0fffffff} .* runs past the image's end .*\\(at byte ${at}\\)`));
  });

  test('a directory record too short to hold its fields', async () => {
    const first = children(img, jolietRoot(img))[0]!;
    await fails(await damaged('reclen', (p) => patch(p, first.at, [10])), new RegExp(`length 10 does not fit .*\\(at byte ${first.at}\\)`));
  });

  test('a directory whose extent is its parent\'s (a loop) is refused, not walked forever', async () => {
    const root = jolietRoot(img);
    const rootExtent = img.readUInt32LE(root + 2);
    const sub = children(img, root).find((c) => c.dir)!;
    const size = Buffer.alloc(4);
    size.writeUInt32LE(img.readUInt32LE(root + 10));
    const p = await damaged('loop', async (path) => {
      const ext = Buffer.alloc(4);
      ext.writeUInt32LE(rootExtent);
      await patch(path, sub.at + 2, ext);
      await patch(path, sub.at + 10, size);
    });
    await fails(p, /is already part of the tree \(a loop\)/);
  });

  test('random damage to the descriptors and directories: an IsoError or a good read, never anything else', async () => {
    const rootStart = img.readUInt32LE(jolietRoot(img) + 2) * SECTOR;
    const rand = prngInt(12);
    for (let i = 0; i < 40; i++) {
      const p = await damaged(`random-${i}`, async (path) => {
        for (let k = 0; k < 4; k++) {
          const at = rand(2) === 0 ? 16 * SECTOR + rand(3 * SECTOR) : rootStart + rand(16 * SECTOR);
          await flip(path, at, 1 << rand(8));
        }
      });
      try {
        await list(p);
      } catch (e) {
        assert.ok(e instanceof IsoError, `damage ${i}: ${(e as Error).stack}`);
      }
      await rm(p);
    }
  });
});
