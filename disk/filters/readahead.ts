/**
 * readahead: notices sequential reads and fetches ahead of them, like nbdkit's readahead
 * filter. Once reads run sequentially, the filter holds a row of contiguous windows from the
 * reader onwards and keeps one whole window fetched or in flight beyond the window holding
 * the latest read's last byte, so the source always has work during a copy. Each new window
 * is twice the last, up to `max`; a random read passes straight through and the next run
 * starts again from `min` (small reads while a tool inspects, MiBs during a copy).
 *
 * Readers with several reads in flight (a copy's workers, issuing reads in order) share the
 * row: a read waits for the windows it covers, which may be two, and one window is fetched
 * once however many reads need it. Windows the newest read has passed are dropped.
 *
 * A sequential reader gets views of the windows (each byte handed out once, so they are its
 * own); other reads get copies. Over a device that can read into a given buffer (`readInto`:
 * HTTP) windows nobody got a view of are reused from a small pool. Writes and trims drop
 * every window (before and after they run).
 */
import type { BlockDevice } from '../block-device.js';
import { BufferPool } from './buffer-pool.js';
import { FilterDevice } from './filter-device.js';
import { filterKind } from './filter-kind.js';
import { parseBytes } from './options.js';

export interface ReadaheadOptions {
  /** First window after a sequential read is seen (default 64 KiB). */
  min?: number;
  /** Largest window (default 4 MiB). */
  max?: number;
}

interface Window {
  start: bigint;
  end: bigint;
  /** The bytes, or undefined when the fetch failed (the reads that needed it go below). */
  data: Promise<Buffer | undefined>;
  /** Reads copying from it now: its buffer goes back to the pool only when none are left. */
  users: number;
  /** Dropped from the row; reused once it settled and has no users. */
  dropped: boolean;
  settled: Buffer | undefined | null;
  /** Bytes before this may have been handed out as views (see `gather`); none below `start`. */
  given: bigint;
}

export class ReadaheadFilter extends FilterDevice {
  readonly min: number;
  readonly max: number;
  private window: number;
  /** Contiguous, in order. */
  private row: Window[] = [];
  private lastEnd = -1n;
  /** Bumped by writes and trims; windows fetched under an older generation are not used. */
  private generation = 0;
  private readonly pool = new BufferPool(4);

  constructor(inner: BlockDevice, opts: ReadaheadOptions = {}) {
    super(inner);
    this.min = opts.min ?? 64 << 10;
    this.max = opts.max ?? 4 << 20;
    if (!(this.min >= 512 && this.max >= this.min && this.max <= 1 << 30)) {
      throw new Error(`readahead window min ${this.min} and max ${this.max} must satisfy 512 <= min <= max <= 1 GiB`);
    }
    this.window = this.min;
  }

  /** Bytes held, or being fetched, in windows now. */
  get bufferedBytes(): number {
    return this.row.reduce((n, w) => n + Number(w.end - w.start), 0);
  }

  protected override _read(offset: bigint, length: number): Promise<Buffer> {
    return this.serve(offset, length);
  }

  /** As `read`, into the caller's buffer: windows then stay pooled (no views are handed out). */
  protected override async _readInto(offset: bigint, target: Buffer): Promise<void> {
    await this.serve(offset, target.length, target);
  }

  private async serve(offset: bigint, length: number, target?: Buffer): Promise<Buffer> {
    const end = offset + BigInt(length);
    const sequential = offset === this.lastEnd;
    this.lastEnd = end;
    const first = this.row[0];
    const last = this.row.at(-1);
    const inRow = first !== undefined && last !== undefined && offset >= first.start && offset <= last.end;
    if (!inRow && !sequential) {
      this.window = this.min;
      return this.below(offset, length, target);
    }
    // A new run drops the row; a read within it drops only the windows it has passed.
    this.dropBefore(inRow ? offset : this.size);
    if (this.row.length === 0) {
      this.grow();
      this.add(offset, Math.max(length, this.window));
    }
    this.extend(end);
    return this.gather(offset, length, target);
  }

  private async below(offset: bigint, length: number, target: Buffer | undefined): Promise<Buffer> {
    if (!target) return this.inner.read(offset, length);
    await this.inner.readInto(offset, target);
    return target;
  }

  /** Fetch windows until one whole window lies beyond the one holding byte `end - 1`. */
  private extend(end: bigint): void {
    for (;;) {
      const last = this.row.at(-1)!;
      if (last.end >= this.size) return;
      const holder = this.row.findIndex((w) => w.end >= end);
      if (holder !== -1 && holder < this.row.length - 1) return;
      this.grow();
      this.add(last.end, this.window);
    }
  }

  private add(start: bigint, length: number): void {
    const end = start + BigInt(length) < this.size ? start + BigInt(length) : this.size;
    const w: Window = { start, end, data: Promise.resolve(undefined), users: 0, dropped: false, settled: null, given: start };
    // A failed fetch is dropped: the reads that needed it read below and report the error.
    w.data = this.fetch(start, Number(end - start)).then(
      (b) => this.settle(w, b),
      () => this.settle(w, undefined),
    );
    this.row.push(w);
  }

  private settle(w: Window, b: Buffer | undefined): Buffer | undefined {
    w.settled = b;
    // A failed window and those after it leave the row, which stays contiguous.
    const i = b === undefined ? this.row.indexOf(w) : -1;
    if (i !== -1) for (const x of this.row.splice(i)) this.drop(x);
    this.recycle(w);
    return b;
  }

  /** One inner read, into a reused buffer. */
  private async fetch(offset: bigint, length: number): Promise<Buffer> {
    const buf = this.pool.take(length);
    // A failed read may still be writing into its buffer: that one is never reused.
    await this.inner.readInto(offset, buf);
    return buf;
  }

  /**
   * [offset, offset + length) from the windows covering it; read below if one failed. A read
   * inside one window past every byte handed out of it before gets a view of the window, not
   * a copy: a sequential reader's bytes are handed out once, so the view is the caller's
   * alone, and that window is never reused (copying into a fresh buffer instead costs page
   * faults on every byte). Any other read gets a copy, into `target` when given.
   */
  private async gather(offset: bigint, length: number, target: Buffer | undefined): Promise<Buffer> {
    const end = offset + BigInt(length);
    const { generation } = this;
    const parts = this.row.filter((w) => w.start < end && w.end > offset);
    for (const w of parts) w.users++;
    try {
      const datas = await Promise.all(parts.map((w) => w.data));
      if (generation !== this.generation || datas.some((d) => d === undefined)) return await this.below(offset, length, target);
      const only = parts.length === 1 ? parts[0]! : undefined;
      if (!target && only && offset >= only.given) {
        only.given = end;
        return datas[0]!.subarray(Number(offset - only.start), Number(end - only.start));
      }
      const out = target ?? Buffer.allocUnsafe(length);
      parts.forEach((w, i) => {
        const from = offset > w.start ? offset : w.start;
        const to = end < w.end ? end : w.end;
        datas[i]!.copy(out, Number(from - offset), Number(from - w.start), Number(to - w.start));
      });
      return out;
    } finally {
      for (const w of parts) {
        w.users--;
        this.recycle(w);
      }
    }
  }

  /** Drop windows that end at or before `offset`. */
  private dropBefore(offset: bigint): void {
    while (this.row[0] && this.row[0].end <= offset) this.drop(this.row[0]);
  }

  private drop(w: Window): void {
    const i = this.row.indexOf(w);
    if (i !== -1) this.row.splice(i, 1);
    w.dropped = true;
    this.recycle(w);
  }

  /**
   * A dropped window's buffer goes back to the pool once its fetch settled, no read copies
   * from it, and none of it was handed out as a view.
   */
  private recycle(w: Window): void {
    if (!w.dropped || w.users > 0 || !w.settled || w.given > w.start) return;
    this.pool.give(w.settled);
    w.settled = undefined;
  }

  private grow(): void {
    this.window = Math.min(this.window * 2, this.max);
  }

  private invalidate(): void {
    this.generation++;
    this.dropBefore(this.size);
    this.window = this.min;
  }

  protected override _write(offset: bigint, data: Uint8Array): Promise<void> {
    return this.invalidating(() => this.inner.write(offset, data));
  }

  protected override _trim(offset: bigint, length: bigint): Promise<void> {
    return this.invalidating(() => this.inner.trim(offset, length));
  }

  /** Drop the windows before a change and again after: a fetch issued meanwhile may hold old bytes. */
  private async invalidating(change: () => Promise<void>): Promise<void> {
    this.invalidate();
    try {
      await change();
    } finally {
      this.invalidate();
    }
  }

  override async close(): Promise<void> {
    const pending = this.row.map((w) => w.data);
    this.invalidate();
    await Promise.all(pending);
    await this.inner.close();
  }
}

export function readahead(dev: BlockDevice, opts: ReadaheadOptions = {}): ReadaheadFilter {
  return new ReadaheadFilter(dev, opts);
}

export const readaheadKind = filterKind<ReadaheadOptions>('readahead', { min: parseBytes, max: parseBytes }, readahead);
