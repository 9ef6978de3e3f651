import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { test } from 'node:test';
import type { BlockDevice } from '../../../disk/block-device.js';
import { openDisk } from '../../../disk/open.js';
import { hashDevice, qemuRawHash } from '../../fixtures/run.js';
import { GiB, MiB, pattern, qemuMap, qemuVmdk, rawSource, varied } from './images.js';

const SMALL = 12 * MiB + 1536; // not a whole number of grains: the last grain is partial
// Over 4 GiB, so the twoGbMaxExtent* subformats make three extents; data straddles each cut.
const LARGE = 4 * GiB + MiB;
const largeChunks = [
  { at: 0, data: pattern(11, 200_000) },
  { at: 2 * GiB - 100_000, data: pattern(12, 300_000, true) },
  { at: 4 * GiB - 65536 * 3, data: pattern(13, 400_000) },
  { at: LARGE - 5000, data: pattern(14, 5000) },
];
// Flat extents hold every byte, so reading them costs more: two extents are enough there.
const MEDIUM = 2 * GiB + MiB;
const mediumChunks = [largeChunks[0]!, largeChunks[1]!, { at: MEDIUM - 5000, data: pattern(14, 5000) }];

function plain(runs: { offset: bigint | number; length: bigint | number; hole: boolean; zero: boolean }[]) {
  return runs.map((r) => ({ offset: Number(r.offset), length: Number(r.length), hole: r.hole, zero: r.zero }));
}

async function check(subformat: string, size: number, chunks = varied(size), sparse = true): Promise<BlockDevice> {
  const source = await rawSource(`vmdk-src-${size}`, size, chunks);
  const image = await qemuVmdk(subformat, source);
  const dev = await openDisk(image);
  assert.equal(dev.size, BigInt(size));
  assert.equal(await hashDevice(dev), await qemuRawHash(image), `${subformat}: device bytes differ from qemu-img's`);
  const ours = plain(await dev.extents(0n, dev.size));
  if (sparse) assert.deepEqual(ours, await qemuMap(image), `${subformat}: extents differ from qemu-img map`);
  else assert.deepEqual(ours, [{ offset: 0, length: size, hole: false, zero: false }]);
  return dev;
}

test('vmdk monolithicSparse: bytes and holes match qemu-img', async () => {
  const dev = await check('monolithicSparse', SMALL);
  // A read inside one grain, and one across allocated and unallocated grains.
  assert.deepEqual(await dev.read(BigInt(MiB + 4097), 3000), pattern(2, 3000));
  const across = await dev.read(90_000n, 20_000);
  assert.deepEqual(across.subarray(0, 10_000), pattern(1, 100_000).subarray(90_000));
  assert.ok(across.subarray(10_000).every((b) => b === 0));
  await dev.close();
});

test('vmdk streamOptimized: compressed grains match qemu-img', async () => {
  const dev = await check('streamOptimized', SMALL);
  // Small reads one after another use the inflated-grain cache and still see the right bytes.
  const text = pattern(3, 700_000, true);
  for (let at = 0; at < 200_000; at += 4096) {
    assert.deepEqual(await dev.read(BigInt(3 * MiB + at), 4096), text.subarray(at, at + 4096));
  }
  await dev.close();
});

test('vmdk monolithicFlat: descriptor plus one flat extent', async () => {
  const dev = await check('monolithicFlat', SMALL, varied(SMALL), false);
  await dev.close();
});

test('vmdk twoGbMaxExtentSparse: three sparse extents laid end to end', async () => {
  const dev = await check('twoGbMaxExtentSparse', LARGE, largeChunks);
  const files = (await readdir(dirname((dev as { name: string }).name))).filter((f) => f.endsWith('.vmdk'));
  assert.equal(files.length, 4, `descriptor and three extents, got ${files.join(' ')}`);
  // A read straddling the first extent boundary.
  assert.deepEqual(await dev.read(BigInt(2 * GiB - 100_000), 300_000), pattern(12, 300_000, true));
  await dev.close();
});

test('vmdk twoGbMaxExtentFlat: two flat extents laid end to end', async () => {
  const dev = await check('twoGbMaxExtentFlat', MEDIUM, mediumChunks, false);
  assert.deepEqual(await dev.read(BigInt(2 * GiB - 100_000), 300_000), pattern(12, 300_000, true));
  await dev.close();
});
