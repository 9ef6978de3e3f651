/**
 * Sequential read of a 1 GiB streamOptimized VMDK in 1 MiB requests through our stack,
 * against qemu-img converting the same image into nothing. (`qemu-img convert -O raw IMG
 * /dev/null` refuses: "Cannot grow device files"; qemu's null-co target discards the same way.)
 * Run: node dist/bench/vmdk-read.js   (the image is built once and cached under .fixtures/)
 */
import { spawnSync } from 'node:child_process';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { openDisk } from '../disk/open.js';
import { fixture } from '../test/fixtures/cache.js';
import { run } from '../test/fixtures/run.js';
import { pattern } from '../test/disk/vmdk/images.js';

const SIZE = 1 << 30;
const BLOCK = 1 << 20;

/** 1 GiB of mixed data: text that deflates well, some noise, some empty megabytes. */
async function writeSource(path: string): Promise<void> {
  const blocks = Array.from({ length: 16 }, (_, i) => {
    const b = pattern(100 + i, BLOCK, true);
    pattern(200 + i, BLOCK / 8).copy(b, (i * 4096) % (BLOCK / 2));
    return b;
  });
  const fh = await open(path, 'w');
  try {
    await fh.truncate(SIZE);
    for (let i = 0; i < SIZE / BLOCK; i++) {
      if (i % 10 === 9) continue; // a hole every tenth MiB
      await fh.write(blocks[(i * 7) % blocks.length]!, 0, BLOCK, i * BLOCK);
    }
  } finally {
    await fh.close();
  }
}

const recipe = `bench vmdk-read v1: ${writeSource.toString()} qemu-img convert -O vmdk -o subformat=streamOptimized`;
const image = await fixture('bench-1g-stream.vmdk', recipe, async (path) => {
  const raw = `${path}.raw`;
  await writeSource(raw);
  try {
    await run('qemu-img', ['convert', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=streamOptimized', raw, path]);
  } finally {
    await rm(raw, { force: true });
  }
});

async function ours(): Promise<number> {
  const start = process.hrtime.bigint();
  const dev = await openDisk(image);
  for (let off = 0n; off < dev.size; off += BigInt(BLOCK)) await dev.read(off, BLOCK);
  await dev.close();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function qemu(): number {
  const start = process.hrtime.bigint();
  const r = spawnSync('qemu-img', ['convert', '-n', '-f', 'vmdk', image, '--target-image-opts', `driver=null-co,size=${SIZE}`]);
  if (r.status !== 0) throw new Error(`qemu-img failed: ${r.stderr.toString()}`);
  return Number(process.hrtime.bigint() - start) / 1e9;
}

const runs = Number(process.env['RUNS'] ?? 3);
let best = { ours: Infinity, qemu: Infinity };
for (let i = 0; i < runs; i++) best = { ours: Math.min(best.ours, await ours()), qemu: Math.min(best.qemu, qemu()) };
const mbs = (s: number) => SIZE / 1e6 / s;
const { size } = await import('node:fs/promises').then((f) => f.stat(image));
console.log(`image: ${join(image)} (${(size / 1e6).toFixed(0)} MB for ${SIZE / 1e6} MB of disk)`);
console.log(`guestkit vmdk sequential 1 MiB reads: ${mbs(best.ours).toFixed(0)} MB/s (${best.ours.toFixed(2)} s)`);
console.log(`qemu-img convert to null-co:         ${mbs(best.qemu).toFixed(0)} MB/s (${best.qemu.toFixed(2)} s)`);
console.log(`ratio guestkit/qemu: ${(mbs(best.ours) / mbs(best.qemu)).toFixed(2)}`);
