import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { crc32 } from 'node:zlib';
import { BaseDevice } from '../../disk/block-device.js';
import { scanVolumes } from '../../volume/scan.js';
import type { Partition } from '../../volume/types.js';
import { fixture } from '../fixtures/cache.js';
import { run, runStatus } from '../fixtures/run.js';
import { closeDisks, openDisks, parseSgdiskInfo, scratchCopy, sgdiskInfo, withLoop } from './helpers.js';
import { flip, patch } from '../fixtures/patch.js';

const SGDISK = ['-n', '1:2048:+4M', '-t', '1:ef00', '-c', '1:EFI System', '-n', '2:0:+8M', '-t', '2:8300', '-c', '2:root',
  '-n', '3:0:+2M', '-t', '3:8e00', '-c', '3:lvm-ünï', '-n', '5:0:0', '-t', '5:0700', '-c', '5:data'];
const NUMBERS = [1, 2, 3, 5];

/** 32 MiB GPT by sgdisk, with entry 4 left empty. */
function gptImage(): Promise<string> {
  return fixture('gpt.img', SGDISK.join(' '), async (path) => {
    await run('truncate', ['-s', '32M', path]);
    await run('sgdisk', [...SGDISK, path]);
  });
}

/** The fields sgdisk reports, as we found them (sector units of `ss`). */
function asSgdisk(p: Partition, ss: bigint) {
  return { typeGuid: p.type, uniqueGuid: p.guid, first: p.start / ss, last: (p.start + p.size) / ss - 1n, sectors: p.size / ss, name: p.label };
}

test('gpt: partitions, types, GUIDs and UTF-16 names match sgdisk -i', async () => {
  const image = await gptImage();
  const disks = await openDisks(image);
  const scan = await scanVolumes(disks);
  assert.deepEqual(scan.tables, { '/dev/sda': 'gpt' });
  assert.deepEqual(scan.warnings, []);
  assert.deepEqual(scan.partitions.map((p) => p.name), NUMBERS.map((n) => `/dev/sda${n}`));
  for (const p of scan.partitions) {
    assert.deepEqual(asSgdisk(p, 512n), await sgdiskInfo(image, p.number));
    assert.equal(p.scheme, 'gpt');
    assert.equal(p.device.sectorSize, 512);
  }
  await closeDisks(disks);
});

/** What `sgdisk -v` says of an image (it writes nothing). */
async function sgdiskVerify(image: string): Promise<string> {
  const r = await runStatus('sgdisk', ['-v', image]);
  return r.stdout + r.stderr;
}

/** Our partitions of a damaged image equal what sgdisk reads from the same image (its backup). */
async function sameAsSgdisk(image: string, parts: Partition[]): Promise<void> {
  assert.deepEqual(parts.map((p) => p.number), NUMBERS);
  for (const p of parts) assert.deepEqual(asSgdisk(p, 512n), await sgdiskInfo(image, p.number));
}

test('gpt: a primary header with a bad CRC falls back to the backup, with a warning, as sgdisk does', async () => {
  const image = await scratchCopy(await gptImage(), 'gpt-bad-primary');
  await flip(image, 512 + 56); // a byte of the disk GUID
  assert.match(await sgdiskVerify(image), /Main header: ERROR\nBackup header: OK/);
  const disks = await openDisks(image);
  const scan = await scanVolumes(disks);
  await sameAsSgdisk(image, scan.partitions);
  assert.equal(scan.warnings.length, 1);
  assert.match(scan.warnings[0]!, /^.*gpt-bad-primary\.img: primary GPT header \(512-byte sectors\) has a bad CRC32 .*\(at byte 528\); using the backup GPT header at LBA 65535$/);
  await closeDisks(disks);
});

test('gpt: a damaged primary partition array falls back to the backup array, as sgdisk does', async () => {
  const intact = await gptImage();
  const image = await scratchCopy(intact, 'gpt-bad-array');
  await patch(image, 1024 + 56, Buffer.from('X', 'utf16le')); // first entry's name: 'E' becomes 'X'
  assert.match(await sgdiskVerify(image), /Main partition table: ERROR\nBackup partition table: OK/);
  const disks = await openDisks(image);
  const scan = await scanVolumes(disks);
  await sameAsSgdisk(image, scan.partitions);
  assert.equal(scan.partitions[0]!.label, 'EFI System');
  assert.equal(scan.warnings.length, 1);
  assert.match(scan.warnings[0]!, /partition array with a bad CRC32 .*\(at byte 1024\); using the backup GPT header/);
  await closeDisks(disks);
});

test('gpt: both headers damaged is an error naming the image and both offsets', async () => {
  const image = await scratchCopy(await gptImage(), 'gpt-bad-both');
  await flip(image, 512 + 56);
  await flip(image, 32 * 1024 * 1024 - 512 + 56);
  const disks = await openDisks(image);
  await assert.rejects(scanVolumes(disks), (e: Error) => {
    assert.ok(e.message.startsWith(`${image}: GPT is unreadable`), e.message);
    assert.match(e.message, /primary GPT header \(512-byte sectors\) has a bad CRC32 .*\(at byte 528\)/);
    assert.match(e.message, /backup GPT header \(512-byte sectors\) has a bad CRC32 .*\(at byte 33553936\)/);
    return true;
  });
  await closeDisks(disks);
});

test('gpt: a GPT disk cut to 513-1024 bytes says it is too small, not an empty reason', async () => {
  for (const size of [513, 1024]) {
    const image = await scratchCopy(await gptImage(), `gpt-cut-${size}`);
    await run('truncate', ['-s', String(size), image]);
    const disks = await openDisks(image);
    await assert.rejects(scanVolumes(disks), { message: `${image}: GPT is unreadable: the disk of ${size} bytes is too small for a GPT (3 sectors of 512 bytes at least)` });
    await closeDisks(disks);
  }
});

test('gpt: a protective MBR entry in slot 2 still means GPT', async () => {
  const image = await scratchCopy(await gptImage(), 'gpt-pmbr-slot2');
  const mbr = await readFile(image);
  const moved = Buffer.alloc(32);
  mbr.copy(moved, 16, 446, 462); // slot 1 → slot 2, slot 1 emptied
  assert.equal(moved[16 + 4], 0xee);
  await patch(image, 446, moved);
  const disks = await openDisks(image);
  const scan = await scanVolumes(disks);
  assert.deepEqual(scan.tables, { '/dev/sda': 'gpt' });
  assert.deepEqual(scan.partitions.map((p) => p.number), NUMBERS);
  await closeDisks(disks);
});

test('gpt: 4 KiB logical sectors (sgdisk on a 4096-byte-sector loop device)', async () => {
  const args = ['-n', '1:0:+8M', '-t', '1:8300', '-c', '1:one', '-n', '2:0:0', '-t', '2:ef00', '-c', '2:two'];
  const image = await fixture('gpt4k.img', `loop 4096: sgdisk ${args.join(' ')}`, async (path) => {
    await run('truncate', ['-s', '32M', path]);
    await withLoop(path, ['--sector-size', '4096'], (dev) => run('sgdisk', [...args, dev]));
  });
  const head = await readFile(image);
  assert.equal(head.toString('latin1', 4096, 4104), 'EFI PART');
  const disks = await openDisks(image);
  const scan = await scanVolumes(disks);
  assert.deepEqual(scan.warnings, []);
  assert.deepEqual(scan.partitions.map((p) => p.number), [1, 2]);
  const expected = await withLoop(image, ['-r', '--sector-size', '4096'], async (dev) =>
    Promise.all([1, 2].map(async (n) => parseSgdiskInfo(await run('sgdisk', ['-i', String(n), dev])))));
  for (const [i, p] of scan.partitions.entries()) {
    assert.deepEqual(asSgdisk(p, 4096n), expected[i]);
    assert.equal(p.device.sectorSize, 4096);
  }
  await closeDisks(disks);
});

/** A device of any size that reads zeros except for the pieces it holds (as nbdkit's data plugin). */
class SparseMemoryDevice extends BaseDevice {
  constructor(readonly name: string, readonly size: bigint, private readonly pieces: { offset: bigint; data: Buffer }[]) {
    super();
  }

  protected async _read(offset: bigint, length: number): Promise<Buffer> {
    const out = Buffer.alloc(length);
    for (const { offset: at, data } of this.pieces) {
      const from = at > offset ? at : offset;
      const to = at + BigInt(data.length) < offset + BigInt(length) ? at + BigInt(data.length) : offset + BigInt(length);
      if (from < to) data.copy(out, Number(from - offset), Number(from - at), Number(to - at));
    }
    return out;
  }
}

const EIB7 = 7n << 60n;

test('gpt: a 7 EiB disk lists its partition with the exact size in bytes', async () => {
  // sgdisk writes the tables into a sparse 7 EiB file on tmpfs; we keep only both ends.
  const dir = await fixture('gpt-7eib', 'truncate -s 7E; sgdisk -n 1:2048:0 -t 1:8300 -c 1:huge; keep 34 head + 33 tail sectors', async (path) => {
    await mkdir(path);
    const big = join('/dev/shm', `gpt-7eib-${process.pid}.img`);
    try {
      await run('truncate', ['-s', '7E', big]);
      await run('sgdisk', ['-n', '1:2048:0', '-t', '1:8300', '-c', '1:huge', big]);
      const sectors = EIB7 / 512n;
      await run('dd', [`if=${big}`, `of=${join(path, 'head.bin')}`, 'bs=512', 'count=34', 'status=none']);
      await run('dd', [`if=${big}`, `of=${join(path, 'tail.bin')}`, 'bs=512', `skip=${sectors - 33n}`, 'count=33', 'status=none']);
      await writeFile(join(path, 'info.txt'), await run('sgdisk', ['-i', '1', big]));
    } finally {
      await run('rm', ['-f', big]);
    }
  });
  const head = await readFile(join(dir, 'head.bin'));
  const tail = await readFile(join(dir, 'tail.bin'));
  const dev = new SparseMemoryDevice('7eib.img', EIB7, [{ offset: 0n, data: head }, { offset: EIB7 - BigInt(tail.length), data: tail }]);
  const expected = parseSgdiskInfo(await readFile(join(dir, 'info.txt'), 'utf8'));
  assert.ok(expected.last > BigInt(Number.MAX_SAFE_INTEGER), 'the last sector is past 2^53');
  const scan = await scanVolumes([{ name: '/dev/sda', device: dev }]);
  assert.equal(scan.partitions.length, 1);
  const p = scan.partitions[0]!;
  assert.deepEqual(asSgdisk(p, 512n), expected);
  assert.equal(p.size, expected.sectors * 512n);
  // Reads near the end of the partition reach the right place on the disk.
  assert.equal((await p.device.read(p.size - 512n, 512)).length, 512);
  // A damaged primary is read from the backup 7 EiB away.
  head.writeUInt8(head.readUInt8(512 + 60) ^ 1, 512 + 60);
  const fallback = await scanVolumes([{ name: '/dev/sda', device: dev }]);
  assert.equal(fallback.partitions[0]!.size, p.size);
  assert.match(fallback.warnings[0]!, new RegExp(`using the backup GPT header at LBA ${EIB7 / 512n - 1n}$`));
});

test('gpt: a GPT whose sector 0 was blanked is still found, with a warning', async () => {
  const image = await scratchCopy(await gptImage(), 'gpt-no-pmbr');
  await patch(image, 0, Buffer.alloc(512));
  const disks = await openDisks(image);
  const scan = await scanVolumes(disks);
  assert.deepEqual(scan.partitions.map((p) => p.number), NUMBERS);
  assert.deepEqual(scan.warnings, [`${image}: GPT without a protective MBR`]);
  await closeDisks(disks);
});

test('gpt: a header with a valid CRC but a huge entry array is refused, not allocated', async () => {
  const image = await scratchCopy(await gptImage(), 'gpt-huge-array');
  const header = (await readFile(image)).subarray(512, 512 + 92);
  header.writeUInt32LE(0x40000000, 80); // entry count
  header.writeUInt32LE(0, 16);
  header.writeUInt32LE(crc32(header), 16);
  await patch(image, 512, header);
  const disks = await openDisks(image);
  const scan = await scanVolumes(disks);
  assert.deepEqual(scan.partitions.map((p) => p.number), NUMBERS);
  assert.match(scan.warnings[0]!, /primary GPT header \(512-byte sectors\) has 1073741824 entries of 128 bytes, more than 4194304 bytes \(at byte 592\); using the backup/);
  await closeDisks(disks);
});
