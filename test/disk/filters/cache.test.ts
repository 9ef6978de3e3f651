import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { cache } from '../../../disk/filters/cache.js';
import { checkRandomReads, count, Gated, loggedFile, randomImage } from './helpers.js';

test('cache: random reads return the file bytes, and repeated reads hit memory', async () => {
  const { path, data } = await randomImage('cache-bytes');
  const { dev: below, entries } = await loggedFile(path);
  const dev = cache(below, { blocksize: 64 << 10, size: 8 << 20 });
  await checkRandomReads(dev, data, 200, 7);
  const first = count(entries, 'read');
  assert.ok(first > 0);
  // The whole image fits in the cache now: the same pattern again reads nothing below.
  await checkRandomReads(dev, data, 200, 7);
  assert.equal(count(entries, 'read'), first);
  assert.ok(dev.stats.hits > 0);
  assert.ok(dev.cachedBytes <= 8 << 20);
  await dev.close();
});

test('cache: reads in one block share a single inner read, even when concurrent', async () => {
  const { path, data } = await randomImage('cache-share');
  const { dev: below, entries } = await loggedFile(path);
  const dev = cache(below, { blocksize: 65536 });
  const got = await Promise.all([0, 4096, 8192, 60000, 100].map((off) => dev.read(BigInt(65536 + off), 512)));
  got.forEach((buf, i) => {
    const off = 65536 + [0, 4096, 8192, 60000, 100][i]!;
    assert.ok(buf.equals(data.subarray(off, off + 512)));
  });
  assert.deepEqual(
    entries.map((e) => [e.op, e.offset, e.length]),
    [['read', 65536, 65536]],
  );
  await dev.close();
});

test('cache: with bypass, a long read of uncached blocks goes straight below and is not cached; one touching a cached block is', async () => {
  const { path, data } = await randomImage('cache-bypass');
  const { dev: below, entries } = await loggedFile(path);
  const dev = cache(below, { blocksize: 4096, bypass: 65536 });
  assert.ok((await dev.read(8192n, 65536)).equals(data.subarray(8192, 8192 + 65536)));
  assert.ok((await dev.read(8192n, 4096)).equals(data.subarray(8192, 12288)), 'not cached: read again below');
  assert.ok((await dev.read(4096n, 65536)).equals(data.subarray(4096, 4096 + 65536)), 'holds block 2: through the cache');
  assert.ok((await dev.read(8192n, 4096)).equals(data.subarray(8192, 12288)), 'now cached');
  assert.deepEqual(
    entries.map((e) => [e.op, e.offset, e.length]),
    [['read', 8192, 65536], ['read', 8192, 4096], ['read', 4096, 4096], ['read', 12288, 57344]],
  );
  await dev.close();
});

test('cache: the short last block and a run of missing blocks are read in one request', async () => {
  const { path, data } = await randomImage('cache-tail');
  const { dev: below, entries } = await loggedFile(path);
  const dev = cache(below, { blocksize: 4096 });
  const from = data.length - 3 * 4096 - 100;
  const got = await dev.read(BigInt(from), data.length - from);
  assert.ok(got.equals(data.subarray(from)));
  assert.equal(count(entries, 'read'), 1);
  assert.equal(entries[0]!.length, data.length - Math.floor(from / 4096) * 4096);
  await dev.close();
});

test('cache: LRU evicts the least recently used block when full', async () => {
  const { path } = await randomImage('cache-lru');
  const { dev: below, entries } = await loggedFile(path);
  const bs = 4096;
  const dev = cache(below, { blocksize: bs, size: 2 * bs });
  const readBlock = (i: number) => dev.read(BigInt(i * bs), 16);
  await readBlock(0);
  await readBlock(1);
  await readBlock(0); // 0 is now the most recent
  await readBlock(2); // evicts 1
  assert.equal(count(entries, 'read'), 3);
  await readBlock(0);
  assert.equal(count(entries, 'read'), 3, 'block 0 stayed cached');
  await readBlock(1);
  assert.equal(count(entries, 'read'), 4, 'block 1 was evicted');
  assert.ok(dev.cachedBytes <= 2 * bs);
  await dev.close();
});

test('cache: writes go through to the file and update cached blocks', async () => {
  const { path, data } = await randomImage('cache-write');
  const { dev: below, entries } = await loggedFile(path, true);
  const dev = cache(below, { blocksize: 65536 });
  await dev.read(0n, 200_000); // caches blocks 0..3
  const reads = count(entries, 'read');
  const patch = Buffer.alloc(70_000, 0xab);
  await dev.write(60_000n, patch);
  patch.copy(data, 60_000);
  assert.ok((await dev.read(0n, 200_000)).equals(data.subarray(0, 200_000)));
  assert.equal(count(entries, 'read'), reads, 'cached blocks were patched, not re-read');
  assert.equal(count(entries, 'write'), 1);
  await dev.close();
  assert.ok((await readFile(path)).equals(data), 'the file below holds the write');
});

/** A cache of 64 KiB blocks over a gate over a logged writable file of random bytes. */
async function gatedCache(name: string) {
  const { path, data } = await randomImage(name);
  const { dev: below, entries } = await loggedFile(path, true);
  const gate = new Gated(below, 0n);
  return { data, entries, gate, dev: cache(gate, { blocksize: 65536 }) };
}

test('cache: a block read while a write is on its way is patched by the write', async () => {
  const { data, entries, gate, dev } = await gatedCache('cache-race');
  gate.releaseReads();
  const patch = Buffer.alloc(1000, 0xcd);
  const writing = dev.write(70_000n, patch);
  assert.ok((await dev.read(65536n, 65536)).equals(data.subarray(65536, 131072)), 'the write has not landed yet');
  gate.releaseWrites();
  await writing;
  patch.copy(data, 70_000);
  assert.ok((await dev.read(65536n, 65536)).equals(data.subarray(65536, 131072)));
  assert.equal(count(entries, 'read'), 1, 'the block was cached, then patched by the write');
  await dev.close();
});

test('cache: a read answered after a write landed is not cached', async () => {
  const { data, entries, gate, dev } = await gatedCache('cache-race2');
  gate.releaseWrites();
  const reading = dev.read(0n, 4096);
  await gate.readReachedFile;
  const patch = Buffer.alloc(100, 0xee);
  await dev.write(1000n, patch);
  gate.releaseReads();
  assert.ok((await reading).equals(data.subarray(0, 4096)), 'the racing read got the old bytes');
  patch.copy(data, 1000);
  assert.ok((await dev.read(0n, 4096)).equals(data.subarray(0, 4096)));
  assert.equal(count(entries, 'read'), 2, 'the old block was not cached');
  await dev.close();
});

test('cache: options are checked', async () => {
  const { path } = await randomImage('cache-opts', 8192);
  const { dev: below } = await loggedFile(path);
  assert.throws(() => cache(below, { blocksize: 3000 }), /block size 3000 must be a power of two/);
  await below.close();
});
