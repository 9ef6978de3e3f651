import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Extent } from '../../../disk/block-device.js';
import { cow } from '../../../disk/filters/cow.js';
import { FilterDevice } from '../../../disk/filters/filter-device.js';
import { RawFile } from '../../../disk/raw.js';
import { hashFile } from '../../fixtures/run.js';
import { checkRandomReads, count, loggedFile, randomImage } from './helpers.js';

test('cow: a read-only file becomes writable, reads see the writes, the file is untouched', async () => {
  const { path, data } = await randomImage('cow-rw');
  const before = await hashFile(path);
  const { dev: below, entries } = await loggedFile(path);
  assert.equal(below.canWrite(), false);
  const dev = cow(below, { blocksize: 4096 });
  assert.equal(dev.canWrite(), true);
  const writes: [number, number][] = [
    [0, 4096], // one whole block
    [5000, 10], // inside one block
    [8000, 20_000], // partial, whole, partial
    [data.length - 300, 300], // the short last block
    [5005, 3], // over an earlier write
  ];
  for (const [i, [off, len]] of writes.entries()) {
    const patch = Buffer.alloc(len, 0x10 + i);
    await dev.write(BigInt(off), patch);
    patch.copy(data, off);
  }
  await checkRandomReads(dev, data, 200, 11);
  assert.ok((await dev.read(0n, 40_000)).equals(data.subarray(0, 40_000)));
  await dev.flush();
  await dev.close();
  assert.equal(count(entries, 'write'), 0);
  assert.equal(await hashFile(path), before);
});

test('cow: concurrent partial writes to one block both land', async () => {
  const { path, data } = await randomImage('cow-race', 16384);
  const { dev: below, entries } = await loggedFile(path);
  const dev = cow(below);
  await Promise.all([dev.write(100n, Buffer.from('aaaa')), dev.write(200n, Buffer.from('bbbb')), dev.write(4000n, Buffer.from('cccc'))]);
  Buffer.from('aaaa').copy(data, 100);
  Buffer.from('bbbb').copy(data, 200);
  Buffer.from('cccc').copy(data, 4000);
  assert.ok((await dev.read(0n, 16384)).equals(data));
  assert.equal(count(entries, 'read') - 1, 1, 'the block was copied up once');
  await dev.close();
});

test('cow: a full overlay answers ENOSPC and keeps what it had', async () => {
  const { path, data } = await randomImage('cow-full', 65536);
  const { dev: below } = await loggedFile(path);
  const dev = cow(below, { blocksize: 4096, maxsize: 8192 });
  await dev.write(0n, Buffer.alloc(4096, 1));
  await dev.write(10_000n, Buffer.alloc(10, 2)); // second block: full now
  await dev.write(1n, Buffer.alloc(10, 3)); // an overlay block can still change
  await assert.rejects(dev.write(20_000n, Buffer.alloc(1)), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'ENOSPC');
    assert.match(e.message, /cow overlay is full: 8192 bytes allowed \(maxsize\) \(at byte 20000\)/);
    return true;
  });
  assert.equal(dev.overlayBytes, 8192);
  assert.ok((await dev.read(20_000n, 100)).equals(data.subarray(20_000, 20_100)));
  await dev.close();
});

/** Reports 4 KiB blocks of zeros in the file as holes, so the merge has real holes to cut. */
class ZeroScan extends FilterDevice {
  override async extents(offset: bigint, length: bigint): Promise<Extent[]> {
    const buf = await this.inner.read(offset, Number(length));
    const out: Extent[] = [];
    for (let at = 0; at < buf.length; at += 4096) {
      const piece = buf.subarray(at, at + 4096);
      const hole = piece.every((b) => b === 0);
      const prev = out[out.length - 1];
      if (prev && prev.hole === hole) prev.length += BigInt(piece.length);
      else out.push({ offset: offset + BigInt(at), length: BigInt(piece.length), hole, zero: hole });
    }
    return out;
  }
}

test('cow: extents show overlay blocks as data over the holes below', async () => {
  const { dir } = await randomImage('cow-extents', 4096);
  const path = join(dir, 'sparse.img');
  const image = Buffer.alloc(64 << 10);
  image.fill(7, 16384, 24576); // data in blocks 4 and 5 only
  await writeFile(path, image);
  const dev = cow(new ZeroScan(await RawFile.open(path)));
  assert.deepEqual(await dev.extents(0n, 65536n), [
    { offset: 0n, length: 16384n, hole: true, zero: true },
    { offset: 16384n, length: 8192n, hole: false, zero: false },
    { offset: 24576n, length: 40960n, hole: true, zero: true },
  ]);
  await dev.write(4096n, Buffer.alloc(10, 1)); // block 1
  await dev.write(24576n, Buffer.alloc(4096, 1)); // block 6, joins the data of 4 and 5
  await dev.write(65535n, Buffer.alloc(1, 1)); // the last block
  assert.deepEqual(await dev.extents(0n, 65536n), [
    { offset: 0n, length: 4096n, hole: true, zero: true },
    { offset: 4096n, length: 4096n, hole: false, zero: false },
    { offset: 8192n, length: 8192n, hole: true, zero: true },
    { offset: 16384n, length: 12288n, hole: false, zero: false },
    { offset: 28672n, length: 32768n, hole: true, zero: true },
    { offset: 61440n, length: 4096n, hole: false, zero: false },
  ]);
  assert.deepEqual(await dev.extents(6000n, 3000n), [
    { offset: 6000n, length: 2192n, hole: false, zero: false },
    { offset: 8192n, length: 808n, hole: true, zero: true },
  ]);
  await dev.close();
});
