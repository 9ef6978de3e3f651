import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { error } from '../../../disk/filters/error.js';
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

test('readahead: reads in flight at once share the windows, and no byte is fetched twice', async () => {
  const { path, data } = await randomImage('ra-depth');
  const { dev: below, entries } = await loggedFile(path);
  const dev = readahead(below, { min: 64 << 10, max: 512 << 10 });
  // Four readers issuing 96 KiB reads in order, as a copy's workers do; windows are powers of
  // two, so many reads straddle two windows.
  const chunk = 96 << 10;
  let next = 0;
  let most = 0;
  const worker = async () => {
    while (next < data.length) {
      const off = next;
      const len = Math.min(chunk, data.length - off);
      next += len;
      const got = await dev.read(BigInt(off), len);
      assert.ok(got.equals(data.subarray(off, off + len)), `bytes at ${off}`);
      most = Math.max(most, dev.bufferedBytes);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  const reads = entries.filter((e) => e.op === 'read');
  const fetched = reads.reduce((n, e) => n + Number(e.length), 0);
  // The first read passes through (one read is not yet a run); everything after it once.
  assert.ok(fetched <= data.length + chunk, `fetched ${fetched} bytes of a ${data.length}-byte file`);
  assert.ok(reads.length < data.length / chunk / 2, `${reads.length} inner reads`);
  assert.ok(most <= 3 * (512 << 10) + chunk, `held ${most} bytes`);
  await dev.close();
});

test('readahead: a failed window fetch is reported by the read that needs it, and reading goes on', async () => {
  const { path, data, dir } = await randomImage('ra-fail');
  const trigger = join(dir, 'fail-now');
  const { dev: below } = await loggedFile(path);
  const dev = readahead(error(below, { file: trigger, ops: ['read'] }), { min: 64 << 10, max: 256 << 10 });
  const step = 16 << 10;
  let off = 0;
  const readNext = async () => {
    const got = await dev.read(BigInt(off), step);
    assert.ok(got.equals(data.subarray(off, off + step)), `bytes at ${off}`);
    off += step;
  };
  while (off < 512 << 10) await readNext();
  await writeFile(trigger, '');
  // Windows already fetched still serve; the first read that needs a failed one fails.
  const err = await (async () => {
    for (;;) await readNext();
  })().catch((e: Error & { code?: string }) => e);
  assert.equal(err.code, 'EIO');
  assert.match(err.message, /injected error/);
  assert.ok(off < data.length - step);
  await rm(trigger);
  while (off + step <= data.length) await readNext();
  await dev.close();
});
