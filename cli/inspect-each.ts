/**
 * `virt-inspector --each`: inspect each image as a guest of its own and print one JSON line
 * per image as it finishes. Inspection is mostly parsing, so one event loop keeps one core
 * busy: past a few images the work is spread over worker threads, one per core, each keeping
 * a few images in flight so that reads and parsing overlap. The main thread only hands out
 * images and prints lines. Each worker runs `inspect-worker.ts`.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { Guest, type DiskSpec } from '../guest/guest.js';
import { inspectGuest } from '../inspect/inspect.js';
import type { RemoteFlags } from './remote.js';

/** Images in flight per thread: enough to overlap reads with parsing, few enough to bound memory. */
const IN_FLIGHT = 4;
/** Fewer images than this per thread are not worth a worker's start-up (it loads the modules again). */
const IMAGES_PER_WORKER = 8;

export interface Done {
  line: string;
  failed: boolean;
}

export interface WorkerSetup {
  guestkitEach: true;
  applications: boolean;
  flags: RemoteFlags;
}

/** Inspect one image; any failure becomes its line's `error`. */
export async function inspectOne(disk: DiskSpec, applications: boolean): Promise<Done> {
  try {
    // The drivers' own warnings (a journal replayed in memory) belong on this image's line too.
    const driverWarnings: string[] = [];
    const guest = await Guest.open([disk], { readonly: true, warn: (m) => driverWarnings.push(m) });
    try {
      const r = await inspectGuest(guest, { applications });
      const warnings = [...guest.scan.warnings, ...driverWarnings, ...r.warnings];
      return { line: JSON.stringify({ image: disk.path, operatingsystems: r.oses, warnings }), failed: false };
    } finally {
      await guest.close();
    }
  } catch (e) {
    return { line: JSON.stringify({ image: disk.path, error: (e as Error).message }), failed: true };
  }
}

/** Inspect every image, calling `done` as each finishes; resolves with the number that failed. */
export async function inspectEach(images: DiskSpec[], applications: boolean, flags: RemoteFlags, done: (line: string) => void): Promise<number> {
  const threads = Math.min(availableParallelism(), Math.floor(images.length / IMAGES_PER_WORKER));
  let failed = 0;
  const finish = (d: Done) => {
    if (d.failed) failed++;
    done(d.line);
  };
  if (threads < 2) {
    const { default: pLimit } = await import('p-limit');
    const limit = pLimit(IN_FLIGHT * availableParallelism());
    await Promise.all(images.map((disk) => limit(async () => finish(await inspectOne(disk, applications)))));
  } else {
    await inWorkers(images, threads, { guestkitEach: true, applications, flags }, finish);
  }
  return failed;
}

/** Hand images out to `threads` workers, IN_FLIGHT at a time each, the next one as each finishes. */
function inWorkers(images: DiskSpec[], threads: number, setup: WorkerSetup, finish: (d: Done) => void): Promise<void> {
  const queue = [...images];
  let pending = images.length;
  const workers: Worker[] = [];
  return new Promise<void>((resolve, reject) => {
    const stop = (e?: Error) => {
      for (const w of workers) void w.terminate();
      if (e) reject(e);
      else resolve();
    };
    for (let i = 0; i < threads; i++) {
      // Next to this module in dist/cli, and next to the command's bundle in dist/bin.
      const w = new Worker(new URL('./inspect-worker.js', import.meta.url), { workerData: setup });
      workers.push(w);
      const next = () => {
        const disk = queue.shift();
        if (disk) w.postMessage(disk);
      };
      w.on('message', (d: Done) => {
        finish(d);
        if (--pending === 0) stop();
        else next();
      });
      w.on('error', (e) => stop(new Error(`an inspection worker failed: ${e.message}`, { cause: e })));
      for (let k = 0; k < IN_FLIGHT; k++) next();
    }
  });
}
