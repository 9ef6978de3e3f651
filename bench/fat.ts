/**
 * FAT throughput: reading and writing a 64 MiB file through our driver, against mtools
 * (mcopy out of and into the same image) as the reference. Prints MB/s and the ratio.
 */
import { copyFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RawFile } from '../disk/raw.js';
import { FatFilesystem } from '../fs/fat/fat-fs.js';
import { FatWritable } from '../fs/fat/fat-writer.js';
import { scratch } from '../test/fixtures/cache.js';
import { run } from '../test/fixtures/run.js';

const SIZE = 64 << 20;
const CHUNK = 1 << 20;
const env = { ...process.env, MTOOLS_SKIP_CHECK: '1' };

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

const mbps = (s: number) => SIZE / (1 << 20) / s;

const dir = await scratch('bench-fat');
const empty = join(dir, 'empty.img');
const img = join(dir, 'fat.img');
const host = join(dir, 'data.bin');
await run('mkfs.vfat', ['-C', '-F', '32', empty, String(256 * 1024)]);
const data = Buffer.alloc(SIZE);
for (let i = 0; i < SIZE; i += 4) data.writeUInt32LE((i * 2654435761) >>> 0, i);
await writeFile(host, data);

// Writes: mcopy in vs our create + 1 MiB writes, each into a fresh copy of the empty image.
await copyFile(empty, img);
const refWrite = await timed(() => run('mcopy', ['-i', img, host, '::/data.bin'], { env }));
await copyFile(empty, img);
let closing = 0;
const ourWrite = await timed(async () => {
  const dev = await RawFile.open(img, true);
  const fs = await FatWritable.open(dev, { writable: true });
  const a = await fs.create(fs.rootIno, 'data.bin', 0o644, 0, 0);
  for (let off = 0; off < SIZE; off += CHUNK) await fs.write(a.ino, off, data.subarray(off, off + CHUNK));
  // close() makes the data durable (fdatasync); mcopy does not sync, so that time is left out.
  closing = await timed(async () => {
    await fs.close();
    await dev.close();
  });
});

// Reads of the file our driver wrote: mcopy out vs 1 MiB reads.
const refRead = await timed(() => run('mcopy', ['-n', '-i', img, '::/data.bin', join(dir, 'out.bin')], { env }));
const ourRead = await timed(async () => {
  const dev = await RawFile.open(img);
  const fs = await FatFilesystem.open(dev);
  const a = await fs.lookup(fs.rootIno, 'data.bin');
  for (let off = 0; off < SIZE; off += CHUNK) await fs.read(a.ino, off, CHUNK);
  await fs.close();
  await dev.close();
});

const row = (what: string, ours: number, ref: number) =>
  console.log(`${what}: guestkit ${mbps(ours).toFixed(1)} MB/s, mtools ${mbps(ref).toFixed(1)} MB/s, guestkit/mtools ${(ref / ours).toFixed(2)}`);
row('fat32 read 64 MiB', ourRead, refRead);
row('fat32 write 64 MiB', ourWrite - closing, refWrite);
console.log(`fat32 write: close with fdatasync took ${(closing * 1000).toFixed(0)} ms more`);
await rm(dir, { recursive: true, force: true });
