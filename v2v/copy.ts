/**
 * The copy of a converted disk (its overlay) to a target. Extents are asked of the overlay,
 * which asks its backing (the source) for what it does not hold itself, so holes and zero
 * runs of every layer are skipped without being read; data that reads as zeros is not
 * written either, down to aligned 64 KiB pieces of a chunk (as qemu-img convert skips zero
 * runs of what it reads), so a sparse target stays sparse even from a raw source, whose
 * holes Node cannot see. Several chunks are in flight at once.
 */
import type { BlockDevice, Extent } from '../disk/block-device.js';
import { Workers } from './workers.js';

export interface CopyOptions {
  /** Write zeros over holes and zero runs too, so every byte of the target is allocated (-oa preallocated). */
  allocate?: boolean;
  /** Chunks in flight at once (default 8). */
  requests?: number;
  /** Called as chunks finish: bytes done (holes included) out of the disk's size. */
  progress?: (done: bigint) => void;
}

export interface CopyResult {
  /** Bytes written to the target. */
  written: bigint;
  /** Bytes read from the source (holes and zero runs are never read). */
  read: bigint;
}

const MiB = 1 << 20;
/** Large enough that per-request costs vanish, small enough that 8 in flight cost 16 MiB. */
const CHUNK = 2 * MiB;
/** Extents are mapped a window at a time, so a huge disk's map is never held whole. */
const MAP_WINDOW = 1n << 30n;
const DEFAULT_REQUESTS = 8;
/** Zero runs of read data this long (and aligned on the disk) are not written: a qcow2 cluster. */
const ZERO_GRAIN = 64 * 1024;
const ZEROS = Buffer.alloc(CHUNK);

interface Piece {
  offset: bigint;
  length: number;
  /** Known to read as zeros: not read at all. */
  zero: boolean;
}

/** Copy every byte `src` holds to `dst` (of the same size, reading as zeros where not written). */
export async function copyDisk(src: BlockDevice, dst: BlockDevice, opts: CopyOptions = {}): Promise<CopyResult> {
  if (dst.size < src.size) throw new Error(`${dst.name}: the target (${dst.size} bytes) is smaller than ${src.name} (${src.size} bytes)`);
  const result: CopyResult = { written: 0n, read: 0n };
  let done = 0n;
  const workers = new Workers();
  const pieces = piecesOf(src, () => workers.failed);
  const worker = async () => {
    // One buffer per worker, read into again for each piece once its writes settled: a fresh
    // 2 MiB buffer per piece cost page faults and garbage collection, and a remote source's
    // readahead reads straight into pooled windows this way.
    const buf = Buffer.allocUnsafe(CHUNK);
    for await (const p of pieces) {
      let data: Buffer | undefined;
      if (!p.zero) {
        data = buf.subarray(0, p.length);
        await src.readInto(p.offset, data);
        result.read += BigInt(p.length);
      }
      if (!data && opts.allocate) data = ZEROS.subarray(0, p.length);
      const runs = !data ? [] : opts.allocate ? [[0, data.length] as const] : dataRuns(p.offset, data);
      for (const [start, end] of runs) {
        await dst.write(p.offset + BigInt(start), data!.subarray(start, end));
        result.written += BigInt(end - start);
      }
      done += BigInt(p.length);
      opts.progress?.(done);
    }
  };
  // Every worker has stopped before the first error is thrown: no write lands after the caller closes dst.
  await workers.run(opts.requests ?? DEFAULT_REQUESTS, worker);
  return result;
}

/** The disk as chunks of at most CHUNK bytes, each marked zero or data, in order. */
async function* piecesOf(src: BlockDevice, stop: () => boolean): AsyncGenerator<Piece> {
  for (let window = 0n; window < src.size; window += MAP_WINDOW) {
    const len = src.size - window < MAP_WINDOW ? src.size - window : MAP_WINDOW;
    for (const e of await src.extents(window, len)) {
      for (const p of split(e)) {
        if (stop()) return;
        yield p;
      }
    }
  }
}

/** One extent as chunks that end on CHUNK boundaries of the disk, so writes stay aligned. */
function* split(e: Extent): Generator<Piece> {
  const end = e.offset + e.length;
  for (let pos = e.offset; pos < end; ) {
    const boundary = (pos / BigInt(CHUNK) + 1n) * BigInt(CHUNK);
    const next = boundary < end ? boundary : end;
    yield { offset: pos, length: Number(next - pos), zero: e.zero };
    pos = next;
  }
}

/** The [start, end) runs of `data` (read at `offset`) left once aligned ZERO_GRAIN pieces of zeros are taken out. */
function dataRuns(offset: bigint, data: Buffer): (readonly [number, number])[] {
  const runs: [number, number][] = [];
  let at = 0;
  let end = ZERO_GRAIN - Number(offset % BigInt(ZERO_GRAIN));
  for (; at < data.length; at = end, end += ZERO_GRAIN) {
    const piece = data.subarray(at, Math.min(end, data.length));
    if (piece.equals(ZEROS.subarray(0, piece.length))) continue;
    const last = runs[runs.length - 1];
    if (last && last[1] === at) last[1] = at + piece.length;
    else runs.push([at, at + piece.length]);
  }
  return runs;
}
