import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readahead } from '../../../disk/filters/readahead.js';
import { checkRandomReads, count, Gated, loggedFile, randomImage } from './helpers.js';

test('readahead: random reads return the file bytes', async () => {
  const { path, data } = await randomImage('ra-bytes');
  const { dev: below } = await loggedFile(path);
  const dev = readahead(below);
  await checkRandomReads(dev, data, 200, 3);
  await dev.close();
});

test('readahead: sequential 4 KiB reads become far fewer inner requests, in bounded memory', async () => {
  const { path, data } = await randomImage('ra-seq');
  const { dev: below, entries } = await loggedFile(path);
  const dev = readahead(below, { min: 64 << 10, max: 1 << 20 });
  let most = 0;
  const chunks: Buffer[] = [];
  for (let off = 0; off < data.length; off += 4096) {
    chunks.push(await dev.read(BigInt(off), Math.min(4096, data.length - off)));
    most = Math.max(most, dev.bufferedBytes);
  }
  assert.ok(Buffer.concat(chunks).equals(data));
  const requests = chunks.length;
  const inner = count(entries, 'read');
  assert.ok(inner * 20 < requests, `${inner} inner reads for ${requests} sequential reads`);
  assert.ok(most <= 2 * (1 << 20), `held ${most} bytes, more than two windows`);
  await dev.close();
});

test('readahead: random reads pass through one to one', async () => {
  const { path, data } = await randomImage('ra-random');
  const { dev: below, entries } = await loggedFile(path);
  const dev = readahead(below);
  const offsets = [3_000_000, 17, 1_000_000, 2_500_000, 400_000];
  for (const off of offsets) assert.ok((await dev.read(BigInt(off), 512)).equals(data.subarray(off, off + 512)));
  assert.equal(count(entries, 'read'), offsets.length);
  assert.ok(entries.every((e) => e.length === 512));
  await dev.close();
});

test('readahead: a write drops the buffered window so the next read sees it', async () => {
  const { path, data } = await randomImage('ra-write');
  const { dev: below } = await loggedFile(path, true);
  const dev = readahead(below);
  await dev.read(0n, 4096);
  await dev.read(4096n, 4096); // sequential: a window from 4096 is buffered now
  assert.ok(dev.bufferedBytes > 0);
  const patch = Buffer.alloc(100, 0x5a);
  await dev.write(10_000n, patch);
  assert.equal(dev.bufferedBytes, 0);
  patch.copy(data, 10_000);
  assert.ok((await dev.read(8192n, 4096)).equals(data.subarray(8192, 12288)));
  await dev.close();
});

test('readahead: a background fetch that overlapped a write is thrown away', { timeout: 20_000 }, async () => {
  const { path, data } = await randomImage('ra-race');
  const { dev: below, entries } = await loggedFile(path, true);
  const window = 65536;
  const gate = new Gated(below, BigInt(4096 + window));
  gate.releaseWrites();
  const dev = readahead(gate, { min: window, max: 4 * window });
  let off = 0;
  const readNext = async () => {
    const got = await dev.read(BigInt(off), 4096);
    assert.ok(got.equals(data.subarray(off, off + 4096)), `bytes at ${off}`);
    off += 4096;
  };
  // Sequential reads into the first window start the background fetch.
  while (off < 4096 + window / 2 + 4096) await readNext();
  await gate.readReachedFile; // it has read the old bytes and is held
  assert.equal(count(entries, 'read'), 3);
  const patch = Buffer.alloc(5000, 0x77);
  await dev.write(BigInt(4096 + window + 100), patch);
  patch.copy(data, 4096 + window + 100);
  gate.releaseReads();
  while (off < 4096 + 2 * window) await readNext();
});
