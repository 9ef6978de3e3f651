/**
 * cow: a copy-on-write overlay in memory, like nbdkit's cow filter. Writes land in overlay
 * blocks; nothing is ever written to the device below, so a read-only image becomes
 * writable. A partial-block write first copies the block up from below. `maxSize` bounds
 * the overlay: a write that needs more answers ENOSPC.
 */
import type { BlockDevice, Extent } from '../block-device.js';
import { DiskError } from '../errors.js';
import { blockLength, blockSpan, gather, patchBlock, splitBlocks } from './blocks.js';
import { FilterDevice } from './filter-device.js';
import { filterKind } from './filter-kind.js';
import { checkBlockSize, parseBytes } from './options.js';

export interface CowOptions {
  /** Overlay block size, a power of two from 512 to 1 MiB (default 4 KiB). */
  blocksize?: number;
  /** Most bytes the overlay may hold (default: no limit). */
  maxsize?: number;
}

export class CowFilter extends FilterDevice {
  readonly blockSize: number;
  readonly maxBlocks: number;
  private readonly overlay = new Map<bigint, Buffer>();
  /** Blocks being copied up from below, so concurrent partial writes share one copy. */
  private readonly copying = new Map<bigint, Promise<Buffer>>();

  constructor(inner: BlockDevice, opts: CowOptions = {}) {
    super(inner);
    this.blockSize = checkBlockSize(opts.blocksize ?? 4096, 512, 1 << 20);
    this.maxBlocks = opts.maxsize === undefined ? Infinity : Math.floor(opts.maxsize / this.blockSize);
  }

  /** Bytes held in the overlay. */
  get overlayBytes(): number {
    return this.overlay.size * this.blockSize;
  }

  override canWrite(): boolean {
    return true;
  }

  // Trim is advisory: the overlay keeps what it has and nothing below is touched.
  override canTrim(): boolean {
    return false;
  }

  /** Nothing below is ever written, so there is nothing to flush. */
  override flush(): Promise<void> {
    return Promise.resolve();
  }

  protected override async _read(offset: bigint, length: number): Promise<Buffer> {
    const { first, last } = blockSpan(offset, length, this.blockSize);
    if (!this.touches(first, last)) return this.inner.read(offset, length);
    const parts: (Buffer | Promise<Buffer[]>)[] = [];
    let runStart: bigint | undefined;
    for (let i = first; i <= last + 1n; i++) {
      const mine = i <= last ? this.overlay.get(i) : undefined;
      if (!mine && i <= last) {
        runStart ??= i;
        continue;
      }
      if (runStart !== undefined) parts.push(this.readBelow(runStart, i));
      runStart = undefined;
      if (mine) parts.push(mine);
    }
    const blocks = (await Promise.all(parts)).flat();
    return gather(offset, length, first, blocks, this.blockSize);
  }

  private touches(first: bigint, last: bigint): boolean {
    if (this.overlay.size === 0) return false;
    for (let i = first; i <= last; i++) if (this.overlay.has(i)) return true;
    return false;
  }

  /** Whole blocks [from, to) from the device below, one buffer per block. */
  private async readBelow(from: bigint, to: bigint): Promise<Buffer[]> {
    const bs = BigInt(this.blockSize);
    const end = to * bs < this.size ? to * bs : this.size;
    return splitBlocks(await this.inner.read(from * bs, Number(end - from * bs)), this.blockSize);
  }

  protected override async _write(offset: bigint, data: Uint8Array): Promise<void> {
    const { first, last } = blockSpan(offset, data.length, this.blockSize);
    const bs = BigInt(this.blockSize);
    let needed = 0;
    for (let i = first; i <= last; i++) if (!this.overlay.has(i) && !this.copying.has(i)) needed++;
    if (this.overlay.size + this.copying.size + needed > this.maxBlocks) {
      throw new DiskError(this.name, `cow overlay is full: ${this.maxBlocks * this.blockSize} bytes allowed (maxsize)`, offset, 'ENOSPC');
    }
    const partial: Promise<void>[] = [];
    for (let i = first; i <= last; i++) {
      const start = i * bs;
      const len = blockLength(i, this.blockSize, this.size);
      const whole = offset <= start && offset + BigInt(data.length) >= start + BigInt(len);
      const mine = this.overlay.get(i);
      if (mine || whole) {
        const block = mine ?? Buffer.allocUnsafe(len);
        patchBlock(block, start, offset, data);
        this.overlay.set(i, block);
      } else {
        partial.push(this.copyUp(i).then((block) => patchBlock(block, start, offset, data)));
      }
    }
    await Promise.all(partial);
  }

  /** The overlay block `index`, copied up from below the first time it is needed. */
  private copyUp(index: bigint): Promise<Buffer> {
    let pending = this.copying.get(index);
    if (!pending) {
      pending = this.readBelow(index, index + 1n)
        .then(([below]) => {
          // A whole-block write may have filled the block while it was being read.
          const block = this.overlay.get(index) ?? Buffer.from(below!);
          this.overlay.set(index, block);
          return block;
        })
        .finally(() => this.copying.delete(index));
      this.copying.set(index, pending);
    }
    return pending;
  }

  /** The device below's runs, with overlay blocks shown as allocated data. */
  override async extents(offset: bigint, length: bigint): Promise<Extent[]> {
    this.checkRange(offset, length, 'extents');
    const below = await this.inner.extents(offset, length);
    const mine = this.overlayRuns(offset, offset + length);
    if (mine.length === 0) return below;
    const out: Extent[] = [];
    const push = (start: bigint, end: bigint, hole: boolean, zero: boolean) => {
      const prev = out[out.length - 1];
      if (prev && prev.offset + prev.length === start && prev.hole === hole && prev.zero === zero) prev.length += end - start;
      else out.push({ offset: start, length: end - start, hole, zero });
    };
    let j = 0;
    for (const e of below) {
      const eEnd = e.offset + e.length;
      let pos = e.offset;
      while (pos < eEnd) {
        while (j < mine.length && mine[j]!.end <= pos) j++;
        const run = mine[j];
        if (!run || run.start >= eEnd) {
          push(pos, eEnd, e.hole, e.zero);
          break;
        }
        if (run.start > pos) {
          push(pos, run.start, e.hole, e.zero);
          pos = run.start;
        }
        const stop = run.end < eEnd ? run.end : eEnd;
        push(pos, stop, false, false);
        pos = stop;
      }
    }
    return out;
  }

  /** Sorted, merged byte ranges of overlay blocks clipped to [start, end). */
  private overlayRuns(start: bigint, end: bigint): { start: bigint; end: bigint }[] {
    const bs = BigInt(this.blockSize);
    const first = start / bs;
    const last = end === 0n ? -1n : (end - 1n) / bs;
    let ids: bigint[];
    if (last - first < BigInt(this.overlay.size)) {
      ids = [];
      for (let i = first; i <= last; i++) if (this.overlay.has(i)) ids.push(i);
    } else {
      ids = [...this.overlay.keys()].filter((i) => i >= first && i <= last).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    }
    const runs: { start: bigint; end: bigint }[] = [];
    for (const i of ids) {
      const s = i * bs > start ? i * bs : start;
      const e = (i + 1n) * bs < end ? (i + 1n) * bs : end;
      const prev = runs[runs.length - 1];
      if (prev && prev.end === s) prev.end = e;
      else runs.push({ start: s, end: e });
    }
    return runs;
  }
}

export function cow(dev: BlockDevice, opts: CowOptions = {}): CowFilter {
  return new CowFilter(dev, opts);
}

export const cowKind = filterKind<CowOptions>('cow', { blocksize: parseBytes, maxsize: parseBytes }, cow);
