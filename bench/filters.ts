/**
 * Random 4 KiB reads on a 256 MiB raw file, straight from the file (the reference) and
 * through the cache filter, one request at a time. Two patterns: uniform over the whole file
 * (the 64 MiB cache holds a quarter of it), and a 32 MiB hot set that fits the cache.
 * Run: node dist/bench/filters.js
 */
import { randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { BlockDevice } from '../disk/block-device.js';
import { cache, type CacheFilter } from '../disk/filters/cache.js';
import { prng } from '../disk/filters/prng.js';
import { RawFile } from '../disk/raw.js';
import { fixture } from '../test/fixtures/cache.js';

const SIZE = 256 << 20;
const READ = 4096;
const SECONDS = 1;
const ROUNDS = 3;

const path = await fixture('bench-filters-256M.img', `random ${SIZE} bytes in 1 MiB writes`, async (p) => {
  const fh = await open(p, 'w');
  for (let off = 0; off < SIZE; off += 1 << 20) await fh.write(randomBytes(1 << 20), 0, 1 << 20, off);
  await fh.close();
});

/** Random aligned 4 KiB reads within the first `span` bytes for SECONDS; ops/s. */
async function measure(dev: BlockDevice, span: number, seed: number): Promise<number> {
  const random = prng(seed);
  const blocks = span / READ;
  const next = () => BigInt(Math.floor(random() * blocks) * READ);
  for (let i = 0; i < 2000; i++) await dev.read(next(), READ); // warm up
  let ops = 0;
  const t0 = performance.now();
  const stop = t0 + SECONDS * 1000;
  while (performance.now() < stop) {
    for (let i = 0; i < 256; i++) await dev.read(next(), READ);
    ops += 256;
  }
  return ops / ((performance.now() - t0) / 1000);
}

const file = await RawFile.open(path);
const rows: [string, number][] = [
  ['uniform 256 MiB', SIZE],
  ['hot set 32 MiB', 32 << 20],
];
const configs: [string, (() => CacheFilter) | undefined][] = [
  ['raw file', undefined],
  ['cache 64K blocks', () => cache(file, { blocksize: 64 << 10, size: 64 << 20 })],
  ['cache 4K blocks', () => cache(file, { blocksize: 4 << 10, size: 64 << 20 })],
];
console.log(`random ${READ}-byte reads, queue depth 1, file ${SIZE >> 20} MiB (page-cached), 64 MiB cache`);
console.log(`median of ${ROUNDS} interleaved rounds of ${SECONDS} s (the machine is shared, so rounds vary)`);
for (const [label, span] of rows) {
  const results = configs.map(() => [] as number[]);
  const hitRates = configs.map(() => 0);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, [, make]] of configs.entries()) {
      const dev = make?.();
      results[i]!.push(await measure(dev ?? file, span, round + 1));
      if (dev) hitRates[i] = dev.stats.hits / (dev.stats.hits + dev.stats.misses);
    }
  }
  const medians = results.map((r) => r.sort((a, b) => a - b)[Math.floor(r.length / 2)]!);
  const line = configs.map(([name, make], i) => {
    const extra = make ? ` (hits ${(hitRates[i]! * 100).toFixed(1)}%, ${(medians[i]! / medians[0]!).toFixed(2)}x)` : '';
    return `${name} ${medians[i]!.toFixed(0)} ops/s${extra}`;
  });
  console.log(`${label.padEnd(16)} ${line.join(' | ')}`);
}
await file.close();
