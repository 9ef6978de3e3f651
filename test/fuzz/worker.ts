/**
 * One fuzz worker: runs cases from, from+stride, … before end of one target and reports each
 * to the runner (`runner.ts`), which watches it from the main thread: a case that hangs is
 * ended by terminating this thread, which stops even a synchronous loop. The first worker of
 * a run walks the clean inputs (what they reach, where the read path reads: the hot ranges);
 * later ones are given the hot ranges.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { prngInt } from '../../disk/filters/prng.js';
import { ImageDevice } from './image-device.js';
import { damage, damageText } from './mutate.js';
import { expectedError, target } from './targets.js';

export interface SharedInput {
  name: string;
  bytes: SharedArrayBuffer;
}

export interface WorkerData {
  target: string;
  seed: number;
  from: number;
  end: number;
  stride: number;
  inputs: SharedInput[];
  /** Per input, the ranges its clean walk read (the first worker finds them). */
  hot?: [number, number][][];
}

export type Outcome = 'ok' | 'refused' | 'crash' | 'write';

export type WorkerMessage =
  | { type: 'clean'; input: string; reached: number; writes: number; hot: [number, number][] }
  | { type: 'start'; i: number; input: string }
  | { type: 'done'; i: number; input: string; outcome: Outcome; detail: string; ops: string[]; peakMb: number };

const { target: name, seed, from, end, stride, inputs: shared, hot: given } = workerData as WorkerData;
const t = target(name);
const port = parentPort!;
const post = (m: WorkerMessage) => port.postMessage(m);

/** Memory this thread holds beyond its inputs: sampled whenever the event loop turns. */
const used = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

const inputs = shared.map((s) => ({ name: s.name, bytes: Buffer.from(s.bytes) }));
const hot = given ?? [];
if (!given) {
  for (const input of inputs) {
    const dev = new ImageDevice(input.name, input.bytes);
    dev.reads = [];
    const { reached } = await t.run(dev);
    const seen = new Set<string>();
    const reads = dev.reads.filter(([o, l]) => !seen.has(`${o}:${l}`) && !!seen.add(`${o}:${l}`));
    hot.push(reads);
    post({ type: 'clean', input: input.name, reached, writes: dev.writes, hot: reads });
  }
}

const baseline = used();
let peak = 0;
setInterval(() => (peak = Math.max(peak, used())), 5).unref();

for (let i = from; i < end; i += stride) {
  const k = i % inputs.length;
  const input = inputs[k]!;
  post({ type: 'start', i, input: input.name });
  // One generator per case, so any case can be replayed alone from (seed, i).
  const rnd = prngInt((Math.imul(seed, 0x9e3779b1) ^ i) >>> 0);
  let dev: ImageDevice;
  let ops: string[] = [];
  if (t.runCase) {
    dev = new ImageDevice(input.name, input.bytes);
  } else if (t.text) {
    const d = damageText(rnd, input.bytes);
    dev = new ImageDevice(input.name, d.bytes);
    ops = d.ops;
  } else {
    const d = damage(rnd, input.bytes, hot[k]!);
    ops = d.ops;
    dev = new ImageDevice(input.name, input.bytes, d.patches, d.length);
    if (t.reseal) {
      const b = dev.bytes();
      t.reseal(b);
      dev = new ImageDevice(input.name, b);
    }
  }
  peak = used();
  let outcome: Outcome = 'ok';
  let detail = '';
  try {
    const r = t.runCase ? await t.runCase(rnd, input, ops) : await t.run(dev);
    if (r.errors > 0) outcome = 'refused';
  } catch (e) {
    if (expectedError(t, e) && !(e as Error).message.includes('\n')) {
      outcome = 'refused';
      detail = (e as Error).message;
    } else {
      outcome = 'crash';
      detail = (e as Error)?.stack ?? String(e);
    }
  }
  if (dev.writes > 0) outcome = 'write';
  peak = Math.max(peak, used());
  post({ type: 'done', i, input: input.name, outcome, detail, ops, peakMb: Math.max(0, peak - baseline) / 2 ** 20 });
  // A case over in-memory images never waits on I/O, so without this the event loop would not
  // turn between cases: the sampler above would never run, and what Node frees on a later tick
  // (a failed inflateSync's output buffer, for one) would pile up into false memory findings.
  await new Promise((r) => setImmediate(r));
}
process.exit(0);
