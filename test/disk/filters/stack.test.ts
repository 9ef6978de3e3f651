import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { BlockDevice } from '../../../disk/block-device.js';
import { CacheFilter } from '../../../disk/filters/cache.js';
import { FilterDevice } from '../../../disk/filters/filter-device.js';
import { LogFilter, type LogEntry } from '../../../disk/filters/log.js';
import { prng } from '../../../disk/filters/prng.js';
import { ReadaheadFilter } from '../../../disk/filters/readahead.js';
import { applyFilters, filterKinds, parseFilterSpec } from '../../../disk/filters/stack.js';
import { RawFile } from '../../../disk/raw.js';
import { hashFile } from '../../fixtures/run.js';
import { checkRandomReads, count, loggedFile, randomImage } from './helpers.js';

test('stack: every filter, built from a spec, returns the file bytes', async () => {
  const { path, data, dir } = await randomImage('stack-each');
  const specs = ['cache:size=1M,blocksize=16K', 'readahead:max=512K', 'cow:blocksize=8K', `log:file=${join(dir, 'x.log')}`, 'delay:read=0', 'error:rate=0'];
  assert.deepEqual(specs.map((s) => parseFilterSpec(s).name).sort(), filterKinds.map((k) => k.name).sort());
  for (const spec of specs) {
    const dev = applyFilters(await RawFile.open(path), [spec]);
    assert.ok(dev instanceof FilterDevice, spec);
    await checkRandomReads(dev, data, 60, 13);
    await dev.close();
  }
});

test('stack: log over cache over readahead returns the right bytes; first spec is outermost', async () => {
  const { path, data, dir } = await randomImage('stack-three');
  const before = await hashFile(path);
  const logPath = join(dir, 'top.log');
  const { dev: below, entries: inner } = await loggedFile(path);
  const dev = applyFilters(below, [`log:file=${logPath}`, 'cache:size=2M,blocksize=64K', 'readahead:max=1M']);
  assert.ok(dev instanceof LogFilter);
  assert.ok(dev.inner instanceof CacheFilter);
  assert.ok(dev.inner.inner instanceof ReadaheadFilter);
  await checkRandomReads(dev, data, 150, 17);
  const chunks: Buffer[] = [];
  for (let off = 0; off < data.length; off += 4096) chunks.push(await dev.read(BigInt(off), Math.min(4096, data.length - off)));
  assert.ok(Buffer.concat(chunks).equals(data));
  await dev.close();
  const top = (await readFile(logPath, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as LogEntry);
  assert.equal(top.length, 150 + chunks.length, 'the outer log sees every request');
  assert.ok(count(inner, 'read') < top.length / 4, `${count(inner, 'read')} reads reached the file`);
  assert.equal(await hashFile(path), before);
});

test('stack: unknown filters, unknown options and bad values are clear errors', async () => {
  const { path } = await randomImage('stack-errors', 4096);
  const dev = await RawFile.open(path);
  const cases: [string, RegExp][] = [
    ['cahce', /--filter=cahce: unknown filter "cahce" \(known: cache, readahead, cow, log, delay, error\)$/],
    ['cache:sise=1M', /--filter=cache:sise=1M: unknown option "sise" for filter cache \(known: blocksize, size\)$/],
    ['cache:size=lots', /--filter=cache:size=lots: option "size" of filter cache: "lots" is not a size/],
    ['cache:blocksize=3K', /block size 3072 must be a power of two from 512 to 16777216/],
    ['error:rate=2', /option "rate" of filter error: rate 2 is not between 0 and 1/],
    ['error:rate=0.1,rate=0.2', /option "rate" given twice/],
    ['delay:read', /"read" is not key=value/],
    ['log', /log filter needs a file or an onEntry callback/],
  ];
  for (const [spec, re] of cases) assert.throws(() => applyFilters(dev, [spec]), re, spec);
  // A bad spec anywhere stops the whole stack before anything is built.
  assert.throws(() => applyFilters(dev, ['cache', 'nope']), /unknown filter "nope"/);
  assert.equal(applyFilters(dev, []), dev);
  const parsed = parseFilterSpec('error:rate=10%,file=/tmp/trigger,ops=read+write');
  assert.deepEqual([...parsed.options], [['rate', '10%'], ['file', '/tmp/trigger'], ['ops', 'read+write']]);
  await dev.close();
});

/** Random writes, each followed by a batch of concurrent random reads, checked against a model. */
async function mixedLoad(dev: BlockDevice, model: Buffer, seed: number): Promise<void> {
  const random = prng(seed);
  const pick = (max: number) => {
    const length = 1 + Math.floor(random() * max);
    return { length, offset: Math.floor(random() * (model.length - length + 1)) };
  };
  for (let round = 0; round < 40; round++) {
    const w = pick(100_000);
    const patch = Buffer.alloc(w.length, round + 1);
    await dev.write(BigInt(w.offset), patch);
    patch.copy(model, w.offset);
    const reads = Array.from({ length: 8 }, () => pick(150_000));
    const got = await Promise.all(reads.map((r) => dev.read(BigInt(r.offset), r.length)));
    reads.forEach((r, i) => assert.ok(got[i]!.equals(model.subarray(r.offset, r.offset + r.length)), `round ${round}: read at ${r.offset}`));
  }
}

test('stack: writes and reads mixed through cache and readahead reach the file', async () => {
  const { path, data } = await randomImage('stack-mixed');
  const dev = applyFilters(await RawFile.open(path, true), ['cache:size=1M,blocksize=16K', 'readahead:max=256K']);
  await mixedLoad(dev, data, 21);
  await dev.close();
  assert.ok((await readFile(path)).equals(data));
});

test('stack: writes and reads mixed through cow over cache keep the file untouched', async () => {
  const { path, data } = await randomImage('stack-mixed-cow');
  const before = await hashFile(path);
  const dev = applyFilters(await RawFile.open(path), ['cow', 'cache:size=1M,blocksize=16K', 'readahead']);
  await mixedLoad(dev, data, 22);
  await dev.close();
  assert.equal(await hashFile(path), before);
});
