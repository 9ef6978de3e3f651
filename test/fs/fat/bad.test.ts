import assert from 'node:assert/strict';
import { copyFile, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { RawFile } from '../../../disk/raw.js';
import { fatDriver } from '../../../fs/fat/driver.js';
import { readFile as readPath, resolvePath } from '../../../fs/path.js';
import { hashFile } from '../../fixtures/run.js';
import { fatImage, mtools, mtoolsTree, openFat, ourTree, scratchCopy, scratchDir } from './tools.js';
import { patch } from '../../fixtures/patch.js';

/** Geometry read straight from the boot sector, independently of the driver. */
async function layout(img: string) {
  const fh = await open(img, 'r');
  const b = Buffer.alloc(512);
  await fh.read(b, 0, 512, 0);
  const bps = b.readUInt16LE(11);
  const spc = b.readUInt8(13);
  const reserved = b.readUInt16LE(14);
  const fats = b.readUInt8(16);
  const rootEntries = b.readUInt16LE(17);
  const fatSz = b.readUInt16LE(22) || b.readUInt32LE(36);
  const fat32 = b.readUInt16LE(22) === 0;
  const rootOff = (reserved + fats * fatSz) * bps;
  const dataOff = rootOff + Math.ceil((rootEntries * 32) / bps) * bps;
  const cs = bps * spc;
  const clusterOff = (c: number) => dataOff + (c - 2) * cs;
  const rootDirOff = fat32 ? clusterOff(b.readUInt32LE(44)) : rootOff;
  const slots = Buffer.alloc(16 * 32);
  await fh.read(slots, 0, slots.length, rootDirOff);
  await fh.close();
  /** First cluster of the root entry with this 11-byte name. */
  const entryAt = (buf: Buffer, base: number, name11: string) => {
    for (let i = 0; i < buf.length; i += 32) if (buf.subarray(i, i + 11).toString('latin1') === name11) return base + i;
    throw new Error(`no entry ${name11}`);
  };
  return { fat32, fats, fatOff: reserved * bps, fatBytes: fatSz * bps, clusterOff, rootDirOff, rootSlots: slots, entryAt, rootCluster: fat32 ? b.readUInt32LE(44) : 0 };
}

async function readAt(img: string, at: number, length: number): Promise<Buffer> {
  const fh = await open(img, 'r');
  const b = Buffer.alloc(length);
  await fh.read(b, 0, length, at);
  await fh.close();
  return b;
}

/** Set FAT entry n to v in every FAT copy (FAT16 or FAT32 layout). */
async function setFat(img: string, l: Awaited<ReturnType<typeof layout>>, n: number, v: number): Promise<void> {
  const width = l.fat32 ? 4 : 2;
  const b = Buffer.alloc(width);
  if (l.fat32) b.writeUInt32LE(v);
  else b.writeUInt16LE(v);
  for (let f = 0; f < l.fats; f++) await patch(img, l.fatOff + f * l.fatBytes + n * width, b);
}

function base(type: 16 | 32): Promise<string> {
  return fatImage(`bad-fat${type}`, type, type === 16 ? 20480 : 66000, async (dir) => {
    const { mkdir, writeFile: wf } = await import('node:fs/promises');
    await wf(`${dir}/DATA.BIN`, Buffer.alloc(40960, 0x61));
    await mkdir(`${dir}/A/B`, { recursive: true });
    await wf(`${dir}/A/B/IN.TXT`, 'inside');
  });
}

async function copyOf(type: 16 | 32, name: string): Promise<{ img: string; l: Awaited<ReturnType<typeof layout>> }> {
  const img = await scratchCopy(await base(type), name);
  return { img, l: await layout(img) };
}

async function firstCluster(img: string, entryOff: number): Promise<number> {
  const e = await readAt(img, entryOff, 32);
  return e.readUInt16LE(20) * 0x10000 + e.readUInt16LE(26);
}

for (const type of [16, 32] as const) {
  test(`fat${type}: a loop in a file's cluster chain is EIO naming the file and the cluster, read or truncated`, async () => {
    const { img, l } = await copyOf(type, `loop${type}`);
    const c = await firstCluster(img, l.entryAt(l.rootSlots, l.rootDirOff, 'DATA    BIN'));
    await setFat(img, l, c + 3, c + 1);
    const { fs, close } = await openFat(img, true);
    await assert.rejects(readPath(fs, '/DATA.BIN'), /EIO: .*loop\d+\.img: file "\/DATA\.BIN": cluster chain from \d+: loops back to cluster \d+/);
    const ino = (await fs.lookup(fs.rootIno, 'DATA.BIN')).ino;
    await assert.rejects(fs.truncate(ino, 1), /EIO: .*loops back/);
    await close();
  });

  test(`fat${type}: a chain running past the last cluster is EIO naming that cluster`, async () => {
    const { img, l } = await copyOf(type, `past${type}`);
    const c = await firstCluster(img, l.entryAt(l.rootSlots, l.rootDirOff, 'DATA    BIN'));
    const beyond = type === 16 ? 0xfff0 : 0x0ffffff0;
    await setFat(img, l, c + 2, beyond);
    const { fs, close } = await openFat(img);
    await assert.rejects(readPath(fs, '/DATA.BIN'), new RegExp(`EIO: .*"/DATA\\.BIN": cluster chain from ${c}: cluster ${beyond} is past the end of the data area`));
    await close();
  });

  test(`fat${type}: a directory whose cluster is its parent's is EIO (directory loop), never a hang`, async () => {
    const { img, l } = await copyOf(type, `self${type}`);
    const aOff = l.entryAt(l.rootSlots, l.rootDirOff, 'A          ');
    const a = await firstCluster(img, aOff);
    const aSlots = await readAt(img, l.clusterOff(a), 8 * 32);
    const bOff = l.entryAt(aSlots, l.clusterOff(a), 'B          ');
    const cl = Buffer.alloc(2);
    cl.writeUInt16LE(a);
    await patch(img, bOff + 26, cl);
    const { fs, close } = await openFat(img);
    // Entering /A lists /A/B, whose attributes need its (looping) contents.
    await assert.rejects(resolvePath(fs, '/A/B/IN.TXT'), /EIO: .*directory "\/A\/B": its first cluster \d+ is that of its ancestor "\/A" \(directory loop\)/);
    await close();
  });
}

test('fat32: a subdirectory pointing at the root cluster is a directory loop', async () => {
  const { img, l } = await copyOf(32, 'selfroot');
  const aOff = l.entryAt(l.rootSlots, l.rootDirOff, 'A          ');
  const cl = Buffer.alloc(2);
  cl.writeUInt16LE(l.rootCluster);
  await patch(img, aOff + 26, cl);
  await patch(img, aOff + 20, Buffer.alloc(2));
  const { fs, close } = await openFat(img);
  await assert.rejects(resolvePath(fs, '/A'), /EIO: .*directory "\/A": its first cluster 2 is that of its ancestor "\/"/);
  await close();
});

test('bad BPB values are EIO naming the boot sector field, and probe says no', async () => {
  const good = await base(16);
  const dir = await scratchDir('bpb');
  const cases: [string, number, Buffer, RegExp][] = [
    ['bytes per sector', 11, Buffer.from([0x2c, 0x01]), /bytes per sector 300 is not a power of two in 512\.\.4096 \(at byte 11\)/],
    ['bytes per sector 8192', 11, Buffer.from([0x00, 0x20]), /bytes per sector 8192/],
    ['sectors per cluster', 13, Buffer.from([3]), /sectors per cluster 3 is not a power of two .*\(at byte 13\)/],
    ['reserved', 14, Buffer.from([0, 0]), /reserved sector count is 0 \(at byte 14\)/],
    ['FAT count', 16, Buffer.from([0]), /FAT count 0 is not in 1\.\.4 \(at byte 16\)/],
    ['root entries', 17, Buffer.from([0, 0]), /no root directory entries \(at byte 17\)/],
    ['total sectors', 19, Buffer.from([0, 0]), /total sector count is 0/],
    ['total sectors past the end', 19, Buffer.from([0xff, 0xff]), /total sectors 65535 × 512 bytes pass the end of the device/],
    ['FAT size', 22, Buffer.from([1, 0]), /FAT of 1 sectors holds 256 entries, too few for \d+ clusters/],
    ['jump', 0, Buffer.from([0]), /no x86 jump instruction/],
  ];
  for (const [what, at, bytes, msg] of cases) {
    const img = join(dir, `${what.replace(/ /g, '-')}.img`);
    await copyFile(good, img);
    await patch(img, at, bytes);
    const dev = await RawFile.open(img);
    assert.equal(await fatDriver.probe(dev), false, what);
    await assert.rejects(fatDriver.open(dev), (e: Error) => {
      assert.match(e.message, /^EIO: .*\.img: FAT boot sector: /, what);
      assert.match(e.message, msg, what);
      return true;
    });
    await dev.close();
  }
  const tiny = join(dir, 'tiny.img');
  await writeFile(tiny, Buffer.alloc(100));
  const dev = await RawFile.open(tiny);
  assert.equal(await fatDriver.probe(dev), false);
  await dev.close();
});

test('a read-only open writes not one byte, and every write call answers EROFS', async () => {
  const { img } = await copyOf(16, 'ro');
  const before = await hashFile(img);
  const { fs, close } = await openFat(img);
  assert.equal(fs.writable, false);
  assert.ok((await ourTree(fs)).length >= 4);
  await fs.statfs();
  const ino = (await fs.lookup(fs.rootIno, 'DATA.BIN')).ino;
  await assert.rejects(fs.create(fs.rootIno, 'new', 0o644, 0, 0), /EROFS/);
  await assert.rejects(fs.write(ino, 0, Buffer.from('x')), /EROFS/);
  await assert.rejects(fs.truncate(ino, 0), /EROFS/);
  await assert.rejects(fs.unlink(fs.rootIno, 'DATA.BIN'), /EROFS/);
  await assert.rejects(fs.mkdir(fs.rootIno, 'd', 0o755, 0, 0), /EROFS/);
  await assert.rejects(fs.rename(fs.rootIno, 'DATA.BIN', fs.rootIno, 'x'), /EROFS/);
  await assert.rejects(fs.utimens(ino, null, { sec: 0, nsec: 0 }), /EROFS/);
  await fs.fsync();
  await close();
  assert.equal(await hashFile(img), before);
  assert.match(await mtools('mdir', ['-i', img, '::/']), /DATA\s+BIN\s+40960/);
});

test('fat16: long names with a wrong checksum or a broken run are ignored and the short name shows, as mtools shows it', async () => {
  const img = await scratchCopy(
    await fatImage('lfn-fat16', 16, 20480, async (dir) => {
      const { writeFile: wf } = await import('node:fs/promises');
      await wf(`${dir}/Long File Name.txt`, 'one');
      await wf(`${dir}/Another long name.txt`, 'two');
      await wf(`${dir}/Third long name.txt`, 'three');
    }),
    'lfn',
  );
  const l = await layout(img);
  // Slot offsets of each long-name run's first slot (the one with the 0x40 "last" flag).
  const runs: number[] = [];
  for (let i = 0; i < l.rootSlots.length; i += 32) if (l.rootSlots[i + 11] === 0x0f && l.rootSlots[i]! & 0x40) runs.push(l.rootDirOff + i);
  assert.equal(runs.length, 3);
  await patch(img, runs[0]! + 13, Buffer.of((await readAt(img, runs[0]! + 13, 1))[0]! ^ 0x55)); // checksum mismatch
  await patch(img, runs[1]!, Buffer.of(((await readAt(img, runs[1]!, 1))[0]! & 0x40) | 5)); // claims 5 slots: orphaned run
  const { fs, close } = await openFat(img);
  const names = (await fs.readdir(fs.rootIno)).map((e) => e.name).sort();
  assert.deepEqual(names, ['ANOTHE~1.TXT', 'LONGFI~1.TXT', 'Third long name.txt']);
  assert.deepEqual((await ourTree(fs)).map((i) => i.path), (await mtoolsTree(img)).map((i) => i.path));
  assert.equal((await fs.read((await fs.lookup(fs.rootIno, 'longfi~1.txt')).ino, 0, 10)).toString(), 'one');
  await close();
  // A '/' inside a long name would make a path of it: the short name is shown instead.
  await patch(img, runs[2]! + 1, Buffer.from('/\0', 'latin1'));
  const again = await openFat(img);
  assert.deepEqual((await again.fs.readdir(again.fs.rootIno)).map((e) => e.name).sort(), ['ANOTHE~1.TXT', 'LONGFI~1.TXT', 'THIRDL~1.TXT']);
  await again.close();
});
