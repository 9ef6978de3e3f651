/**
 * Runs a fuzz target in a worker thread and holds the invariants from outside it: a case
 * past the time bound is a hang (the worker is terminated and a new one carries on after
 * that case), a worker out of heap or past the memory cap is an allocation finding.
 */
import { Worker } from 'node:worker_threads';
import type { WorkerData, WorkerMessage } from './worker.js';

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

export async function fuzz(target: string, opts: FuzzOptions): Promise<FuzzReport> {
  const caseMs = opts.caseMs ?? 10_000;
  const capMb = opts.capMb ?? 512;
  const started = Date.now();
  const deadline = opts.seconds === undefined ? Infinity : started + opts.seconds * 1000;
  let next = opts.from ?? 0;
  const end = opts.count === undefined ? Number.MAX_SAFE_INTEGER : next + opts.count;
  const report: FuzzReport = { target, executions: 0, ok: 0, refused: 0, findings: [], clean: {}, peakMb: 0, seconds: 0 };
  while (next < end && Date.now() < deadline) {
    next = await runWorker(target, opts.seed, next, end - next, { caseMs, capMb, deadline }, report);
  }
  report.seconds = (Date.now() - started) / 1000;
  return report;
}

/** One worker's life; returns the case to carry on from. */
function runWorker(
  target: string, seed: number, from: number, count: number,
  bounds: { caseMs: number; capMb: number; deadline: number }, report: FuzzReport,
): Promise<number> {
  const data: WorkerData = { target, seed, from, count };
  const worker = new Worker(WORKER, { workerData: data, resourceLimits: { maxOldGenerationSizeMb: bounds.capMb * 2 }, stderr: false });
  return new Promise((resolve, reject) => {
    let current: { i: number; input: string } | undefined;
    let timer: NodeJS.Timeout | undefined;
    let next = from + count;
    let failed: Error | undefined;
    const stopAt = (kind: Finding['kind'] | undefined, detail: string) => {
      if (kind && current) report.findings.push({ kind, case: current.i, input: current.input, detail, ops: [] });
      next = current ? current.i + (kind ? 1 : 0) : from;
      void worker.terminate();
    };
    const clean = setInterval(() => {
      if (Date.now() >= bounds.deadline) stopAt(undefined, 'time');
    }, 200);
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'clean') {
        report.clean[m.input] = m.reached;
        if (m.writes > 0) failed = new Error(`${target}: the clean read of ${m.input} wrote to it`);
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
