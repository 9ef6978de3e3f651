/**
 * Shared benchmark helpers: time a run (wall clock and CPU), print MB/s for our stack and a
 * reference tool, and their ratio. Nothing here knows a disk format.
 *
 * On a shared machine wall-clock MB/s swings with other load, and a reference tool with more
 * threads wins more of the CPU; MB per CPU-second is the steadier measure of efficiency.
 */
import { spawn } from 'node:child_process';
import type { BlockDevice } from '../disk/block-device.js';

export interface Measurement {
  label: string;
  bytes: number;
  seconds: number;
  /** User + system CPU time of all threads that did the work. */
  cpuSeconds: number;
}

export const mbPerSecond = (m: Measurement) => m.bytes / 1e6 / m.seconds;
export const mbPerCpuSecond = (m: Measurement) => m.bytes / 1e6 / m.cpuSeconds;

/** Time in-process work `fn`, which moves `bytes` bytes. */
export async function measure(label: string, bytes: number, fn: () => Promise<unknown>): Promise<Measurement> {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  await fn();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  return { label, bytes, seconds, cpuSeconds: (used.user + used.system) / 1e6 };
}

/** Time a command that moves `bytes` bytes; its CPU time comes from the shell's `times`. */
export async function measureCommand(label: string, bytes: number, cmd: string, args: string[]): Promise<Measurement> {
  const start = process.hrtime.bigint();
  const out = await runCommand('bash', ['-c', '"$@" >/dev/null && times', 'bash', cmd, ...args]);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  // `times` prints the shell's user/sys line, then its children's: "0m4.520s 0m1.020s".
  const child = out.trim().split('\n').at(-1) ?? '';
  const cpuSeconds = [...child.matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, m) => sum + Number(m[1]) * 60 + Number(m[2]), 0);
  return { label, bytes, seconds, cpuSeconds };
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

/**
 * Read a whole device front to back in `chunk`-byte requests, `depth` of them in flight
 * (qemu-img convert keeps 8 by default); returns the bytes read. With `into`, each reader
 * reads into one buffer of its own again and again (`readInto`), as a copy that reuses its
 * buffers does.
 */
export async function readAll(dev: BlockDevice, chunk = 1 << 20, depth = 1, into = false): Promise<number> {
  const step = BigInt(chunk);
  let next = 0n;
  const reader = async () => {
    const buf = into ? Buffer.allocUnsafe(chunk) : undefined;
    while (next < dev.size) {
      const off = next;
      next += step;
      const n = Number(dev.size - off < step ? dev.size - off : step);
      if (buf) await dev.readInto(off, buf.subarray(0, n));
      else await dev.read(off, n);
    }
  };
  await Promise.all(Array.from({ length: depth }, reader));
  return Number(dev.size);
}

/** Run a command to completion, failing on a non-zero exit; returns its stdout. */
export function runCommand(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err}`))));
  });
}

/** Print both measurements, and ours / reference by wall clock and by CPU time. */
export function printComparison(title: string, ours: Measurement, reference: Measurement): void {
  const line = (m: Measurement) =>
    `  ${m.label.padEnd(36)} ${mbPerSecond(m).toFixed(0).padStart(6)} MB/s (${m.seconds.toFixed(2)} s)` +
    `  ${mbPerCpuSecond(m).toFixed(0).padStart(6)} MB/CPU-s (${m.cpuSeconds.toFixed(2)} CPU-s)`;
  const wall = mbPerSecond(ours) / mbPerSecond(reference);
  const cpu = mbPerCpuSecond(ours) / mbPerCpuSecond(reference);
  console.log(`${title}\n${line(ours)}\n${line(reference)}\n  ratio ours/reference: ${wall.toFixed(2)}x wall clock, ${cpu.toFixed(2)}x per CPU-second`);
}
