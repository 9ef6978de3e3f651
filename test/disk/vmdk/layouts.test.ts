/** Layouts qemu-img convert does not write: VMware's streamed footer, vCenter pairs, ZERO extents, zeroed grains. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { openDisk } from '../../../disk/open.js';
import { scratch } from '../../fixtures/cache.js';
import { hashDevice, qemuRawHash, run } from '../../fixtures/run.js';
import { MiB, pattern, qemuMap } from './images.js';
import { vmwareStream } from './stream-writer.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const plain = (runs: { offset: bigint; length: bigint; hole: boolean; zero: boolean }[]) =>
  runs.map((r) => ({ offset: Number(r.offset), length: Number(r.length), hole: r.hole, zero: r.zero }));

/** 5 MiB + 3 sectors: noise, text, a gap of a whole grain table span is not needed at this size. */
function streamSource(): Buffer {
  const raw = Buffer.alloc(5 * MiB + 1536);
  pattern(21, 150_000).copy(raw, 0);
  pattern(22, 900_000, true).copy(raw, 2 * MiB + 333);
  pattern(23, 1536).copy(raw, raw.length - 1536);
  return raw;
}

test('vmdk streamOptimized with the grain directory in the footer (GD_AT_END)', async () => {
  const dir = await scratch('vmdk-stream-footer');
  const raw = streamSource();
  const image = join(dir, 'disk.vmdk');
  // 64 grain-table entries: several tables, each behind its GT marker.
  await writeFile(image, vmwareStream(raw, { gtesPerGt: 64 }));
  const dev = await openDisk(image);
  assert.equal(dev.size, BigInt(raw.length));
  const ours = await hashDevice(dev);
  assert.equal(ours, await qemuRawHash(image));
  assert.equal(ours, sha(raw));
  assert.deepEqual(plain(await dev.extents(0n, dev.size)), await qemuMap(image));
  await dev.close();
});

test('vmdk vCenter pair: createType="vmfs" descriptor and its -flat.vmdk', async () => {
  const dir = await scratch('vmdk-vcenter');
  const data = Buffer.concat([pattern(31, MiB), Buffer.alloc(MiB), pattern(32, MiB, true)]);
  await writeFile(join(dir, 'disk-flat.vmdk'), data);
  const sectors = data.length / 512;
  await writeFile(
    join(dir, 'disk.vmdk'),
    [
      '# Disk DescriptorFile',
      'version=1',
      'encoding="UTF-8"',
      'CID=fffffffe',
      'parentCID=ffffffff',
      'isNativeSnapshot="no"',
      'createType="vmfs"',
      '',
      '# Extent description',
      `RW ${sectors} VMFS "disk-flat.vmdk"`,
      '',
      '# The Disk Data Base',
      '#DDB',
      '',
      'ddb.adapterType = "lsilogic"',
      'ddb.thinProvisioned = "1"',
      'ddb.uuid = "60 00 C2 9a 3b 1c 4d 5e-8f 9a 0b 1c 2d 3e 4f 50"',
      'ddb.virtualHWVersion = "13"',
      '',
    ].join('\n'),
  );
  const dev = await openDisk(join(dir, 'disk.vmdk'));
  assert.equal(dev.size, BigInt(data.length));
  const ours = await hashDevice(dev);
  assert.equal(ours, await qemuRawHash(join(dir, 'disk.vmdk')));
  assert.equal(ours, sha(data));
  await dev.close();
});

test('vmdk custom descriptor: FLAT at an offset, ZERO, and a SPARSE extent in a subdirectory', async () => {
  const dir = await scratch('vmdk-custom');
  await mkdir(join(dir, 'parts'));
  const flat = Buffer.concat([Buffer.alloc(4096, 0xee), pattern(41, 256 * 1024)]);
  await writeFile(join(dir, 'parts', 'a.bin'), flat);
  const sparseSrc = join(dir, 'sparse-src.raw');
  const sparseData = Buffer.alloc(MiB);
  pattern(42, 200_000, true).copy(sparseData, 128 * 1024);
  await writeFile(sparseSrc, sparseData);
  await run('qemu-img', ['convert', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=monolithicSparse', sparseSrc, join(dir, 'parts', 'b.vmdk')]);
  const flatSectors = 256 * 1024 / 512;
  const desc = ['# Disk DescriptorFile', 'version=1', 'CID=1', 'parentCID=ffffffff', 'createType="custom"', `RW ${flatSectors} FLAT "parts/a.bin" 8`, 'RW 100 ZERO', `RDONLY ${(1 * MiB) / 512} SPARSE "parts/b.vmdk"`, ''];
  await writeFile(join(dir, 'disk.vmdk'), desc.join('\n'));
  const dev = await openDisk(join(dir, 'disk.vmdk'));
  assert.equal(dev.size, BigInt(256 * 1024 + 100 * 512 + MiB));
  // qemu skips RDONLY and unnamed ZERO lines, so the reference is the bytes put in.
  assert.equal(await hashDevice(dev, 65536), sha(Buffer.concat([flat.subarray(4096), Buffer.alloc(100 * 512), sparseData])));
  assert.equal((await qemuRawHash(join(dir, 'parts', 'b.vmdk'))), sha(sparseData));
  assert.deepEqual(await dev.read(0n, 1000), flat.subarray(4096, 5096));
  const runs = plain(await dev.extents(0n, dev.size));
  assert.deepEqual(runs.slice(0, 2), [
    { offset: 0, length: 256 * 1024, hole: false, zero: false },
    // The ZERO extent and the sparse file's first two unallocated grains are one hole.
    { offset: 256 * 1024, length: 100 * 512 + 128 * 1024, hole: true, zero: true },
  ]);
  await dev.close();
});

test('vmdk zeroed grains (GTE 1) read as zeros and are reported zero but allocated, as qemu-img map does', async () => {
  const dir = await scratch('vmdk-zero-grain');
  const image = join(dir, 'z.vmdk');
  await run('qemu-img', ['create', '-q', '-f', 'vmdk', '-o', 'zeroed_grain=on', image, '4M']);
  await run('qemu-io', ['-c', 'write -P 0x33 0 256k', '-c', 'write -z 64k 64k', '-c', 'write -z 1M 64k', image]);
  const dev = await openDisk(image);
  assert.equal(await hashDevice(dev), await qemuRawHash(image));
  const runs = plain(await dev.extents(0n, dev.size));
  assert.deepEqual(runs, await qemuMap(image));
  assert.deepEqual(runs[1], { offset: 65536, length: 65536, hole: false, zero: true });
  await dev.close();
});
