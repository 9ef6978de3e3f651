/**
 * Sequential read of a 1 GiB qcow2 (plain and compressed) through guestkit in 1 MiB requests,
 * against qemu-img converting the same image to a null target, timed in the same script.
 * Images are built once and cached in .fixtures/. Run: node dist/bench/qcow2-read.js
 */
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { openDisk } from '../disk/open.js';
import { fixture } from '../test/fixtures/cache.js';
import { pattern } from '../test/disk/qcow2/images.js';
import { bestPairs, measure, measureCommand, printComparison, readAll, runCommand } from './measure.js';

const GiB = 1 << 30;
const MiB = 1 << 20;
const RUNS = 5;

/** Text-like data (16 letters, with runs): not trivial, and about 2:1 compressible. */
async function writeRaw(path: string): Promise<void> {
  const block = Buffer.from(pattern(MiB, 42).map((b) => 0x61 + (b & 15)));
  const fh = await open(path, 'w');
  for (let i = 0; i < GiB / MiB; i++) {
    block.writeUInt32LE(i, (i * 4099) % (MiB - 4)); // no two MiB alike
    await fh.write(block, 0, MiB, i * MiB);
  }
  await fh.close();
}

const images = await fixture('qcow2-bench-1g', `v1 ${writeRaw.toString()}`, async (dir) => {
  await runCommand('mkdir', ['-p', dir]);
  const raw = join(dir, 'data.raw');
  await writeRaw(raw);
  await runCommand('qemu-img', ['convert', '-O', 'qcow2', raw, join(dir, 'plain.qcow2')]);
  await runCommand('qemu-img', ['convert', '-c', '-O', 'qcow2', raw, join(dir, 'compressed.qcow2')]);
  await rm(raw);
});

for (const name of ['plain', 'compressed']) {
  const path = join(images, `${name}.qcow2`);
  const qemu = () =>
    measureCommand('qemu-img convert (null-co target)', GiB, 'qemu-img', ['convert', '-n', '-f', 'qcow2', '--target-image-opts', path, `driver=null-co,size=${GiB}`]);
  // One request at a time, and 8 in flight as qemu-img convert keeps by default (-m 8).
  for (const depth of [1, 8]) {
    const ours = async () => {
      const dev = await openDisk(path, { format: 'qcow2' });
      try {
        return await measure(`guestkit, 1 MiB requests, ${depth} in flight`, GiB, () => readAll(dev, MiB, depth));
      } finally {
        await dev.close();
      }
    };
    await qemu(); // warm the page cache
    // Alternate the two so that load from other processes hits both alike; keep the best of each.
    const [measured, reference] = await bestPairs(RUNS, ours, qemu);
    printComparison(`qcow2 ${name} 1 GiB sequential read (${depth} in flight):`, measured, reference);
  }
}
