/**
 * The cluster allocator over $Bitmap: loaded whole on the first write, searched first-fit
 * from a hint, and written back byte range by byte range.
 */
import { FsError } from '../errors.js';
import type { Run } from './runlist.js';
import type { AttrStream } from './stream.js';

export class ClusterBitmap {
  private dirtyLo = Infinity;
  private dirtyHi = -1;
  private cursor = 0;

  constructor(
    private readonly bits: Buffer,
    private readonly total: number,
    private readonly stream: AttrStream,
    private readonly device: string,
  ) {}

  static async load(stream: AttrStream, total: number, device: string): Promise<ClusterBitmap> {
    return new ClusterBitmap(await stream.read(0, stream.size), total, stream, device);
  }

  isSet(c: number): boolean {
    return (this.bits[c >> 3]! & (1 << (c & 7))) !== 0;
  }

  private set(c: number, on: boolean): void {
    if (on) this.bits[c >> 3]! |= 1 << (c & 7);
    else this.bits[c >> 3]! &= ~(1 << (c & 7));
    this.dirtyLo = Math.min(this.dirtyLo, c >> 3);
    this.dirtyHi = Math.max(this.dirtyHi, c >> 3);
  }

  /** Allocate `count` clusters (several runs if need be), preferring ones after `hint`. */
  allocate(count: number, hint: number): { lcn: number; len: number }[] {
    const out: { lcn: number; len: number }[] = [];
    let left = count;
    let c = hint > 0 && hint < this.total ? hint : this.cursor;
    let scanned = 0;
    while (left > 0 && scanned < this.total) {
      if (c >= this.total) c = 0;
      if (this.isSet(c)) {
        c++;
        scanned++;
        continue;
      }
      const start = c;
      while (c < this.total && !this.isSet(c) && c - start < left) {
        this.set(c, true);
        c++;
        scanned++;
      }
      out.push({ lcn: start, len: c - start });
      left -= c - start;
    }
    if (left > 0) {
      for (const r of out) this.free(r.lcn, r.len);
      throw new FsError('ENOSPC', `${this.device}: no ${count} free clusters left on the volume`);
    }
    this.cursor = c;
    return out;
  }

  free(lcn: number, len: number): void {
    for (let c = lcn; c < lcn + len; c++) this.set(c, false);
  }

  freeRuns(runs: Run[]): void {
    for (const r of runs) if (r.lcn >= 0) this.free(r.lcn, r.len);
  }

  /** Write the changed bytes back to $Bitmap. */
  async flush(write: (stream: AttrStream, pos: number, data: Buffer) => Promise<void>): Promise<void> {
    if (this.dirtyHi < 0) return;
    await write(this.stream, this.dirtyLo, this.bits.subarray(this.dirtyLo, this.dirtyHi + 1));
    this.dirtyLo = Infinity;
    this.dirtyHi = -1;
  }
}
