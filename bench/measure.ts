/**
 * Shared benchmark helpers: time a run, print MB/s for our stack and a reference tool, and
 * their ratio. Nothing here knows a disk format.
 */
import { spawn } from 'node:child_process';
import type { BlockDevice } from '../disk/block-device.js';

export interface Measurement {
  label: string;
  bytes: number;
  seconds: number;
}

export const mbPerSecond = (m: Measurement) => m.bytes / 1e6 / m.seconds;

/** Time `fn`, which moves `bytes` bytes. */
export async function measure(label: string, bytes: number, fn: () => Promise<unknown>): Promise<Measurement> {
  const start = process.hrtime.bigint();
  await fn();
  return { label, bytes, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

/**
 * Run `ours` and `reference` alternately `runs` times each and keep the fastest of each: the
 * least disturbed by other load, which then falls on both alike.
 */
export async function bestPairs(runs: number, ours: () => Promise<Measurement>, reference: () => Promise<Measurement>): Promise<[Measurement, Measurement]> {
  const faster = (a: Measurement | undefined, b: Measurement) => (a && a.seconds <= b.seconds ? a : b);
  let a: Measurement | undefined;
  let b: Measurement | undefined;
  for (let i = 0; i < runs; i++) {
    a = faster(a, await ours());
    b = faster(b, await reference());
  }
  return [a!, b!];
}

/** Read a whole device sequentially in `chunk`-byte requests; returns the bytes read. */
export async function readAll(dev: BlockDevice, chunk = 1 << 20): Promise<number> {
  const step = BigInt(chunk);
  for (let off = 0n; off < dev.size; off += step) {
    await dev.read(off, Number(dev.size - off < step ? dev.size - off : step));
  }
  return Number(dev.size);
}

/** Run a command to completion, failing on a non-zero exit. */
export function runCommand(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err}`))));
  });
}

/** Print both measurements and ours / reference. */
export function printComparison(title: string, ours: Measurement, reference: Measurement): void {
  const line = (m: Measurement) => `  ${m.label.padEnd(36)} ${mbPerSecond(m).toFixed(0).padStart(6)} MB/s  (${m.seconds.toFixed(2)} s)`;
  console.log(`${title}\n${line(ours)}\n${line(reference)}\n  ratio ours/reference: ${(mbPerSecond(ours) / mbPerSecond(reference)).toFixed(2)}x`);
}
