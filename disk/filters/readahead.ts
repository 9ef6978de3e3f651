/**
 * readahead: notices sequential reads and fetches ahead of them, like nbdkit's readahead
 * filter. A sequential read that misses reads a whole window in one request; as soon as the
 * reader starts on that buffer the next window is fetched in the background, so the source
 * always has a window in flight during a copy (waiting for the reader to get halfway left it
 * idle for half of each window). The window
 * doubles on each sequential miss or prefetch up to `max`, and falls back to `min` on a
 * random read. At most two windows (plus one oversized request) are held; writes and trims
 * drop them.
 */
import type { BlockDevice } from '../block-device.js';
import { FilterDevice } from './filter-device.js';
import { filterKind } from './filter-kind.js';
import { parseBytes } from './options.js';

export interface ReadaheadOptions {
  /** First window after a sequential read is seen (default 64 KiB). */
  min?: number;
  /** Largest window (default 4 MiB). */
  max?: number;
}

interface Span {
  start: bigint;
  data: Buffer;
}

interface Pending {
  start: bigint;
  end: bigint;
  data: Promise<Buffer | undefined>;
}

export class ReadaheadFilter extends FilterDevice {
  readonly min: number;
  readonly max: number;
  private window: number;
  private current: Span | undefined;
  private next: Pending | undefined;
  private lastEnd = -1n;
  /** Bumped by writes and trims; buffers fetched under an older generation are dropped. */
  private generation = 0;

  constructor(inner: BlockDevice, opts: ReadaheadOptions = {}) {
    super(inner);
    this.min = opts.min ?? 64 << 10;
    this.max = opts.max ?? 4 << 20;
    if (!(this.min >= 512 && this.max >= this.min && this.max <= 1 << 30)) {
      throw new Error(`readahead window min ${this.min} and max ${this.max} must satisfy 512 <= min <= max <= 1 GiB`);
    }
    this.window = this.min;
  }

  /** Bytes held, or being fetched, in read-ahead buffers now. */
  get bufferedBytes(): number {
    return (this.current?.data.length ?? 0) + (this.next ? Number(this.next.end - this.next.start) : 0);
  }

  protected override async _read(offset: bigint, length: number): Promise<Buffer> {
    const end = offset + BigInt(length);
    const sequential = offset === this.lastEnd;
    this.lastEnd = end;
    let hit = slice(this.current, offset, end);
    if (!hit && this.next && offset >= this.next.start && end <= this.next.end) {
      const { generation } = this;
      const pending = this.next;
      const data = await pending.data;
      if (data && generation === this.generation) {
        if (this.next === pending) this.next = undefined;
        this.current = { start: pending.start, data };
        hit = slice(this.current, offset, end);
      }
    }
    if (hit) {
      this.prefetch();
      return hit;
    }
    if (!sequential) {
      this.window = this.min;
      return this.inner.read(offset, length);
    }
    return this.readWindow(offset, length);
  }

  /** A sequential miss: one inner read of the request plus the window after it. */
  private async readWindow(offset: bigint, length: number): Promise<Buffer> {
    const { generation } = this;
    const want = BigInt(Math.max(length, this.window));
    const stop = offset + want < this.size ? offset + want : this.size;
    this.grow();
    this.next = undefined;
    const data = await this.inner.read(offset, Number(stop - offset));
    if (generation === this.generation) {
      this.current = { start: offset, data };
      this.prefetch();
    }
    return copyOf(data.subarray(0, length));
  }

  /** Once the reader is into the buffer, fetch the window after it. */
  private prefetch(): void {
    const cur = this.current;
    if (!cur || this.next) return;
    const curEnd = cur.start + BigInt(cur.data.length);
    if (curEnd >= this.size) return;
    const stop = curEnd + BigInt(this.window) < this.size ? curEnd + BigInt(this.window) : this.size;
    this.grow();
    // A failed prefetch is dropped: the read that needed it retries and reports the error.
    const data = this.inner.read(curEnd, Number(stop - curEnd)).catch(() => undefined);
    this.next = { start: curEnd, end: stop, data };
  }

  private grow(): void {
    this.window = Math.min(this.window * 2, this.max);
  }

  private invalidate(): void {
    this.generation++;
    this.current = undefined;
    this.next = undefined;
    this.window = this.min;
  }

  protected override _write(offset: bigint, data: Uint8Array): Promise<void> {
    return this.invalidating(() => this.inner.write(offset, data));
  }

  protected override _trim(offset: bigint, length: bigint): Promise<void> {
    return this.invalidating(() => this.inner.trim(offset, length));
  }

  /** Drop the buffers before a change and again after: a prefetch issued meanwhile may hold old bytes. */
  private async invalidating(change: () => Promise<void>): Promise<void> {
    this.invalidate();
    try {
      await change();
    } finally {
      this.invalidate();
    }
  }

  override async close(): Promise<void> {
    await this.next?.data;
    this.invalidate();
    await this.inner.close();
  }
}

/** A copy of [offset, end) if `span` holds all of it. */
function slice(span: Span | undefined, offset: bigint, end: bigint): Buffer | undefined {
  if (!span || offset < span.start || end > span.start + BigInt(span.data.length)) return undefined;
  const from = Number(offset - span.start);
  return copyOf(span.data.subarray(from, from + Number(end - offset)));
}

/** A copy the caller owns (Buffer.from would zero-fill the new buffer first). */
function copyOf(b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(b.length);
  b.copy(out);
  return out;
}

export function readahead(dev: BlockDevice, opts: ReadaheadOptions = {}): ReadaheadFilter {
  return new ReadaheadFilter(dev, opts);
}

export const readaheadKind = filterKind<ReadaheadOptions>('readahead', { min: parseBytes, max: parseBytes }, readahead);
