/**
 * Test images for the VMDK driver: a sparse raw source with varied data (incompressible,
 * compressible text, unaligned scraps) and holes, and what `qemu-img convert -O vmdk` makes
 * of it in each subformat. All are cached fixtures.
 */
import { open } from 'node:fs/promises';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fixture } from '../../fixtures/cache.js';
import { run } from '../../fixtures/run.js';

export const MiB = 1 << 20;
export const GiB = 1 << 30;

/** Deterministic bytes: xorshift noise, or (text) words that deflate well. */
export function pattern(seed: number, length: number, text = false): Buffer {
  const buf = Buffer.alloc(length);
  let x = seed | 1;
  const words = ['guest', 'kit ', 'vmdk ', 'grain ', 'table\n', 'sector ', 'extent '];
  for (let i = 0; i < length; ) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    if (text) i += buf.write(words[(x >>> 0) % words.length]!, i, 'latin1');
    else buf[i++] = x & 0xff;
  }
  return buf;
}

export interface Chunk {
  at: number;
  data: Buffer;
}

/** The usual mix: data in the first grains, unaligned scraps, a text run, data at the end. */
export function varied(size: number): Chunk[] {
  return [
    { at: 0, data: pattern(1, 100_000) },
    { at: MiB + 4097, data: pattern(2, 3000) },
    { at: 3 * MiB, data: pattern(3, 700_000, true) },
    { at: 5 * MiB - 512, data: Buffer.alloc(64 * 1024, 0x5a) },
    { at: size - 70_000, data: pattern(4, 70_000) },
  ];
}

async function writeRaw(path: string, size: number, chunks: Chunk[]): Promise<void> {
  const fh = await open(path, 'w');
  try {
    await fh.truncate(size);
    for (const c of chunks) await fh.write(c.data, 0, c.data.length, c.at);
  } finally {
    await fh.close();
  }
}

function describe(size: number, chunks: Chunk[]): string {
  return `${size}:${chunks.map((c) => `${c.at}+${c.data.length}@${c.data.subarray(0, 16).toString('hex')}`).join(',')}`;
}

/** A sparse raw file of `size` bytes holding `chunks`. */
export function rawSource(name: string, size: number, chunks: Chunk[]): Promise<string> {
  return fixture(`${name}.raw`, `raw v1 ${describe(size, chunks)}`, (path) => writeRaw(path, size, chunks));
}

/** A directory holding `disk.vmdk` (and its extent files) made by qemu-img from a raw source. */
export async function qemuVmdk(subformat: string, source: string, extraOpts = ''): Promise<string> {
  const opts = `subformat=${subformat}${extraOpts ? `,${extraOpts}` : ''}`;
  const dir = await fixture(`vmdk-${subformat}`, `qemu-img convert -O vmdk -o ${opts} ${source}`, async (path) => {
    await mkdir(path);
    await run('qemu-img', ['convert', '-f', 'raw', '-O', 'vmdk', '-o', opts, source, join(path, 'disk.vmdk')]);
  });
  return join(dir, 'disk.vmdk');
}

/** `qemu-img map` as extents runs: present = allocated here (not a hole), zero = reads as zeros. */
export async function qemuMap(image: string): Promise<{ offset: number; length: number; hole: boolean; zero: boolean }[]> {
  const entries = JSON.parse(await run('qemu-img', ['map', '--output=json', image])) as { start: number; length: number; present: boolean; zero: boolean }[];
  const runs: { offset: number; length: number; hole: boolean; zero: boolean }[] = [];
  for (const e of entries) {
    const last = runs[runs.length - 1];
    if (last && last.hole === !e.present && last.zero === e.zero) last.length += e.length;
    else runs.push({ offset: e.start, length: e.length, hole: !e.present, zero: e.zero });
  }
  return runs;
}
