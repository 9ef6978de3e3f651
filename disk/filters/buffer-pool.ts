/**
 * A few reused buffers for a filter's own windows. A fresh multi-MiB buffer per window costs
 * page faults on first touch and garbage collections later (about 1 CPU-second per GiB read
 * over HTTP, measured); a reused one costs neither. Only buffers nobody else holds may be
 * given back: a filter that hands out copies of its windows, never views.
 */
export class BufferPool {
  private readonly free: Buffer[] = [];

  /** Keep at most `keep` buffers (the largest). */
  constructor(private readonly keep: number) {}

  /** A buffer of exactly `length` bytes, reused when one is big enough. */
  take(length: number): Buffer {
    const i = this.free.findIndex((b) => b.length >= length);
    const buf = i >= 0 ? this.free.splice(i, 1)[0]! : Buffer.allocUnsafeSlow(length);
    return buf.subarray(0, length);
  }

  /** Give back a buffer `take` returned (or part of one); no one may use it afterwards. */
  give(buf: Buffer): void {
    this.free.push(Buffer.from(buf.buffer, 0, buf.buffer.byteLength));
    this.free.sort((a, b) => b.length - a.length);
    this.free.length = Math.min(this.free.length, this.keep);
  }

  /** Bytes held for reuse. */
  get heldBytes(): number {
    return this.free.reduce((n, b) => n + b.length, 0);
  }
}
