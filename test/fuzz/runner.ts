/**
 * Runs a fuzz target in worker threads and holds the invariants from outside them: a case
 * past the time bound is a hang (the worker is terminated and a new one carries on after
 * that case), a worker out of heap or past the memory cap is an allocation finding.
 *
 * Starting a worker is the expensive part for image targets (five 64 MiB ext4 images, a
 * first walk of each with a cold JIT: ~3 s here), so it is paid once: the clean inputs are
 * loaded here into shared memory every worker reads without a copy, and the first worker's
 * clean walks (the hot ranges) are handed to every later one. `jobs` workers split the cases
 * (worker j takes every jobs-th case), each case still replayable alone from (seed, case).
 */
import { Worker } from 'node:worker_threads';
import { removeFuzzScratch } from './scratch.js';
import { target as findTarget } from './targets.js';
import type { SharedInput, WorkerData, WorkerMessage } from './worker.js';

export interface FuzzOptions {
  seed: number;
  /** Cases to run; or run until `seconds` have passed. */
  count?: number;
  /** The first case (to replay one: `from` and `count: 1`). */
  from?: number;
  seconds?: number;
  /** A case running longer than this is a hang. */
  caseMs?: number;
  /** Memory a case may take beyond its inputs (heap + buffers), and the worker's heap limit. */
  capMb?: number;
  /** Workers running cases at once (1 by default). */
  jobs?: number;
}

export interface Finding {
  kind: 'crash' | 'hang' | 'memory' | 'write';
  case: number;
  input: string;
  detail: string;
  ops: string[];
}

export interface FuzzReport {
  target: string;
  executions: number;
  ok: number;
  refused: number;
  findings: Finding[];
  /** What the clean inputs reached (files + dirs + OSes, keys…), per input. */
  clean: Record<string, number>;
  peakMb: number;
  seconds: number;
}

const WORKER = new URL('./worker.js', import.meta.url);

/** What every worker of one run shares: the inputs, and the hot ranges once the first worker found them. */
interface Shared {
  inputs: SharedInput[];
  hot?: [number, number][][];
}

interface Bounds {
  caseMs: number;
  capMb: number;
  deadline: number;
}

export async function fuzz(target: string, opts: FuzzOptions): Promise<FuzzReport> {
  const started = Date.now();
  const bounds: Bounds = { caseMs: opts.caseMs ?? 10_000, capMb: opts.capMb ?? 512, deadline: opts.seconds === undefined ? Infinity : started + opts.seconds * 1000 };
  const first = opts.from ?? 0;
  const end = opts.count === undefined ? Number.MAX_SAFE_INTEGER : first + opts.count;
  const jobs = Math.max(1, Math.min(opts.jobs ?? 1, end - first));
  const report: FuzzReport = { target, executions: 0, ok: 0, refused: 0, findings: [], clean: {}, peakMb: 0, seconds: 0 };
  const shared: Shared = { inputs: (await findTarget(target).inputs()).map(share) };
  let hotFound!: () => void;
  const hotReady = new Promise<void>((resolve) => (hotFound = resolve));
  const job = async (j: number) => {
    let next = first + j;
    while (next < end && Date.now() < bounds.deadline) {
      next = await runWorker(target, opts.seed, { from: next, end, stride: jobs }, bounds, shared, report, hotFound);
    }
  };
  // The first worker walks the clean inputs; the others start once its hot ranges are known.
  const lead = job(0);
  try {
    await Promise.race([hotReady, lead]);
    await Promise.all([lead, ...Array.from({ length: jobs - 1 }, (_, j) => job(j + 1))]);
  } finally {
    await removeFuzzScratch();
  }
  report.seconds = (Date.now() - started) / 1000;
  return report;
}

/** An input's bytes copied once into memory every worker maps. */
function share(input: { name: string; bytes: Buffer }): SharedInput {
  const bytes = new SharedArrayBuffer(input.bytes.length);
  input.bytes.copy(Buffer.from(bytes));
  return { name: input.name, bytes };
}

/** One worker's life over cases from, from+stride, … before end; returns the case to carry on from. */
function runWorker(
  target: string, seed: number, cases: { from: number; end: number; stride: number },
  bounds: Bounds, shared: Shared, report: FuzzReport, hotFound: () => void,
): Promise<number> {
  const data: WorkerData = { target, seed, ...cases, inputs: shared.inputs, ...(shared.hot ? { hot: shared.hot } : {}) };
  const worker = new Worker(WORKER, { workerData: data, resourceLimits: { maxOldGenerationSizeMb: bounds.capMb * 2 }, stderr: false });
  const hot: [number, number][][] = [];
  return new Promise((resolve, reject) => {
    let current: { i: number; input: string } | undefined;
    let timer: NodeJS.Timeout | undefined;
    let next = cases.end;
    let failed: Error | undefined;
    const stopAt = (kind: Finding['kind'] | undefined, detail: string) => {
      if (kind && current) report.findings.push({ kind, case: current.i, input: current.input, detail, ops: [] });
      next = current ? current.i + (kind ? cases.stride : 0) : cases.from;
      void worker.terminate();
    };
    const clean = setInterval(() => {
      if (Date.now() >= bounds.deadline) stopAt(undefined, 'time');
    }, 200);
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'clean') {
        report.clean[m.input] = m.reached;
        if (m.writes > 0) failed = new Error(`${target}: the clean read of ${m.input} wrote to it`);
        hot.push(m.hot);
        if (hot.length === shared.inputs.length && !shared.hot) {
          shared.hot = hot;
          hotFound();
        }
      } else if (m.type === 'start') {
        current = { i: m.i, input: m.input };
        timer = setTimeout(() => stopAt('hang', `case ran past ${bounds.caseMs} ms`), bounds.caseMs);
      } else {
        clearTimeout(timer);
        current = undefined;
        report.executions++;
        report.peakMb = Math.max(report.peakMb, m.peakMb);
        if (m.outcome === 'ok') report.ok++;
        else if (m.outcome === 'refused') report.refused++;
        else report.findings.push({ kind: m.outcome, case: m.i, input: m.input, detail: m.detail, ops: m.ops });
        if (m.peakMb > bounds.capMb) report.findings.push({ kind: 'memory', case: m.i, input: m.input, detail: `took ${m.peakMb.toFixed(0)} MiB`, ops: m.ops });
      }
    });
    worker.on('error', (e: Error & { code?: string }) => {
      clearTimeout(timer);
      if (e.code === 'ERR_WORKER_OUT_OF_MEMORY') stopAt('memory', e.message);
      else if (current) stopAt('crash', e.stack ?? e.message);
      else failed = e;
    });
    worker.on('exit', () => {
      clearTimeout(timer);
      clearInterval(clean);
      if (failed) reject(failed);
      else resolve(next);
    });
  });
}
