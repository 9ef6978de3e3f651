/**
 * ext4 driver benchmark: list a 10,000-entry directory with attributes, stat 10,000 files by
 * name, read a 1 GiB file in 128 KiB requests. The read is compared with plain fs.read of the
 * same byte ranges of the raw image (the file's physical extents, from the driver).
 * Run: node dist/bench/ext4.js
 */
import { open } from 'node:fs/promises';
import { RawFile } from '../disk/raw.js';
import { ext4Driver } from '../fs/ext4/driver.js';
import type { Ext4Fs } from '../fs/ext4/ext4fs.js';
import { resolvePath } from '../fs/path.js';
import { BIG, FILES, image } from './ext4-image.js';
import { unlocked } from '../fs/locked.js';

const REQ = 128 << 10;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function time<T>(f: () => Promise<T>): Promise<number> {
  const t = performance.now();
  await f();
  return performance.now() - t;
}

const path = await image();
const dev = await RawFile.open(path);
const ms = { list: [] as number[], stat: [] as number[] };
let names: string[] = [];
// Three warm-up rounds (JIT), then eight measured ones.
for (let round = 0; round < 11; round++) {
  // A fresh open each round: caches start empty, the host page cache is warm.
  const fs = unlocked(await ext4Driver.open(dev)) as Ext4Fs;
  const dir = (await resolvePath(fs, '/dir')).ino;
  const tList = await time(async () => {
    names = (await fs.readdir(dir)).map((e) => e.name);
  });
  const fs2 = unlocked(await ext4Driver.open(dev)) as Ext4Fs;
  const dir2 = (await resolvePath(fs2, '/dir')).ino;
  const tStat = await time(async () => {
    for (const n of names) await fs2.lookup(dir2, n);
  });
  if (round >= 3) {
    ms.list.push(tList);
    ms.stat.push(tStat);
  }
}
if (names.length !== FILES) throw new Error(`listed ${names.length} entries, expected ${FILES}`);
console.log(`list ${FILES} entries with attributes: median ${median(ms.list).toFixed(1)} ms (target < 50 ms), all ${ms.list.map((x) => x.toFixed(0)).join('/')}`);
console.log(`stat ${FILES} files by name: median ${median(ms.stat).toFixed(1)} ms = ${(FILES / median(ms.stat) * 1000).toFixed(0)} stat/s`);

const fs = unlocked(await ext4Driver.open(dev)) as Ext4Fs;
const big = await resolvePath(fs, '/big');
const bs = fs.sb.blockSize;
const runs = await fs.physicalRuns(big.ino);
/** Device byte offset of each file offset, from the physical runs. */
const ranges: { pos: number; len: number }[] = [];
for (let off = 0; off < big.size; off += REQ) {
  let left = Math.min(REQ, big.size - off);
  let o = off;
  while (left > 0) {
    const r = runs.find((x) => x.lblk * bs <= o && o < (x.lblk + x.len) * bs)!;
    const n = Math.min(left, (r.lblk + r.len) * bs - o);
    ranges.push({ pos: r.pblk * bs + (o - r.lblk * bs), len: n });
    o += n;
    left -= n;
  }
}
const raw = await open(path, 'r');
const buf = Buffer.alloc(REQ);
const rawRead = async (): Promise<void> => {
  for (const r of ranges) await raw.read(buf, 0, r.len, r.pos);
};
const ourRead = async (): Promise<void> => {
  for (let off = 0; off < big.size; off += REQ) await fs.read(big.ino, off, REQ);
};
// Warm the page cache, then alternate.
await rawRead();
await ourRead();
const rawT: number[] = [];
const ourT: number[] = [];
for (let i = 0; i < 3; i++) {
  rawT.push(await time(rawRead));
  ourT.push(await time(ourRead));
}
const mbs = (t: number): number => BIG / (1 << 20) / (t / 1000);
const ours = mbs(median(ourT));
const ref = mbs(median(rawT));
console.log(`read 1 GiB in 128 KiB requests (${runs.length} extents): ours ${ours.toFixed(0)} MB/s, raw fs.read of the same ranges ${ref.toFixed(0)} MB/s, ratio ${(ours / ref * 100).toFixed(0)}% (target >= 50%)`);
await raw.close();
await dev.close();
