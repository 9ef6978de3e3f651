/**
 * cache: an in-memory LRU cache of fixed-size blocks, write-through (like nbdkit's cache
 * filter in `cache-on-read` mode with `cache=writethrough`). Concurrent reads of the same
 * missing block share one inner read; consecutive missing blocks are fetched in one read.
 */
import type { BlockDevice } from '../block-device.js';
import { blockSpan, gather, patchBlock, splitBlocks } from './blocks.js';
import { FilterDevice } from './filter-device.js';
import { filterKind } from './filter-kind.js';
import { checkBlockSize, parseBytes } from './options.js';

export interface CacheOptions {
  /** Cache block size in bytes, a power of two from 512 to 16 MiB (default 64 KiB). */
  blocksize?: number;
  /** Most bytes of blocks kept (default 64 MiB); at least one block is always kept. */
  size?: number;
  /**
   * Reads of at least this many bytes that find none of their blocks cached or in flight go
   * straight to the inner device and are not cached (default: never). A sequential copy then
   * costs no block copies and does not flush the blocks that small metadata reads keep using.
   */
  bypass?: number;
}

export interface CacheStats {
  /** Blocks answered from memory (including reads that joined a fetch in flight). */
  hits: number;
  /** Blocks fetched from the inner device. */
  misses: number;
  /** Inner read requests issued (one per run of consecutive missing blocks). */
  innerReads: number;
}

export class CacheFilter extends FilterDevice {
  readonly blockSize: number;
  readonly maxBlocks: number;
  readonly bypass: number;
  readonly stats: CacheStats = { hits: 0, misses: 0, innerReads: 0 };
  /** Map order is recency: a hit moves its block to the end, eviction takes the first. */
  private readonly blocks = new Map<bigint, Buffer>();
  private readonly inflight = new Map<bigint, Promise<Buffer>>();

  constructor(inner: BlockDevice, opts: CacheOptions = {}) {
    super(inner);
    this.blockSize = checkBlockSize(opts.blocksize ?? 64 << 10, 512, 16 << 20);
    this.maxBlocks = Math.max(1, Math.floor((opts.size ?? 64 << 20) / this.blockSize));
    this.bypass = opts.bypass ?? Infinity;
  }

  /** Bytes of block data held now (never more than `maxBlocks` blocks). */
  get cachedBytes(): number {
    let n = 0;
    for (const b of this.blocks.values()) n += b.length;
    return n;
  }

  protected override async _read(offset: bigint, length: number): Promise<Buffer> {
    const { first, last } = blockSpan(offset, length, this.blockSize);
    if (length >= this.bypass && this.noneHeld(first, last)) {
      this.stats.innerReads++;
      return this.inner.read(offset, length);
    }
    const parts: (Buffer | Promise<Buffer>)[] = [];
    let runStart: bigint | undefined;
    for (let i = first; i <= last; i++) {
      const have = this.lookup(i);
      if (have === undefined) {
        runStart ??= i;
        continue;
      }
      if (runStart !== undefined) parts.push(...this.fetch(runStart, i));
      runStart = undefined;
      parts.push(have);
    }
    if (runStart !== undefined) parts.push(...this.fetch(runStart, last + 1n));
    const blocks = parts.every((p) => p instanceof Buffer) ? (parts as Buffer[]) : await Promise.all(parts);
    return gather(offset, length, first, blocks, this.blockSize);
  }

  /** As `read`, into the caller's buffer; a bypassing read goes to the device below's `readInto`. */
  protected override async _readInto(offset: bigint, target: Buffer): Promise<void> {
    const { first, last } = blockSpan(offset, target.length, this.blockSize);
    if (target.length >= this.bypass && this.noneHeld(first, last)) {
      this.stats.innerReads++;
      return this.inner.readInto(offset, target);
    }
    (await this._read(offset, target.length)).copy(target);
  }

  private noneHeld(first: bigint, last: bigint): boolean {
    for (let i = first; i <= last; i++) if (this.blocks.has(i) || this.inflight.has(i)) return false;
    return true;
  }

  private lookup(index: bigint): Buffer | Promise<Buffer> | undefined {
    const block = this.blocks.get(index);
    if (block) {
      this.blocks.delete(index);
      this.blocks.set(index, block);
      this.stats.hits++;
      return block;
    }
    const pending = this.inflight.get(index);
    if (pending) this.stats.hits++;
    return pending;
  }

  /** One inner read for blocks [from, to); each block is cached when it arrives. */
  private fetch(from: bigint, to: bigint): Promise<Buffer>[] {
    const start = from * BigInt(this.blockSize);
    const end = to * BigInt(this.blockSize);
    const length = Number((end < this.size ? end : this.size) - start);
    this.stats.innerReads++;
    this.stats.misses += Number(to - from);
    const run = this.inner.read(start, length).then((buf) => splitBlocks(buf, this.blockSize));
    const out: Promise<Buffer>[] = [];
    for (let i = from; i < to; i++) {
      const k = Number(i - from);
      // A block that is part of a larger buffer (a multi-block run, or a view of a readahead
      // window) is copied, so a cached block holds only its own bytes in memory.
      const p = run.then((bs) => (bs[k]!.buffer.byteLength > bs[k]!.length ? Buffer.from(bs[k]!) : bs[k]!));
      this.inflight.set(i, p);
      p.then(
        (block) => this.settle(i, p, block),
        () => this.settle(i, p, undefined),
      );
      out.push(p);
    }
    return out;
  }

  /** A fetch is cached only if no write dropped it meanwhile (its data may be stale). */
  private settle(index: bigint, p: Promise<Buffer>, block: Buffer | undefined): void {
    if (this.inflight.get(index) !== p) return;
    this.inflight.delete(index);
    if (!block) return;
    this.blocks.set(index, block);
    if (this.blocks.size > this.maxBlocks) {
      const oldest = this.blocks.keys().next().value as bigint;
      this.blocks.delete(oldest);
    }
  }

  protected override async _write(offset: bigint, data: Uint8Array): Promise<void> {
    const { first, last } = blockSpan(offset, data.length, this.blockSize);
    this.dropInflight(first, last);
    try {
      await this.inner.write(offset, data);
    } catch (e) {
      this.forget(first, last);
      throw e;
    }
    // Reads that started during the write may hold old bytes: they must not be cached.
    this.dropInflight(first, last);
    for (let i = first; i <= last; i++) {
      const block = this.blocks.get(i);
      if (block) patchBlock(block, i * BigInt(this.blockSize), offset, data);
    }
  }

  protected override async _trim(offset: bigint, length: bigint): Promise<void> {
    // What a trimmed range reads as is up to the device below, so its blocks are dropped.
    const bs = BigInt(this.blockSize);
    const first = offset / bs;
    const last = (offset + length - 1n) / bs;
    try {
      await this.inner.trim(offset, length);
    } finally {
      if (length > 0n) this.forget(first, last);
    }
  }

  private dropInflight(first: bigint, last: bigint): void {
    for (let i = first; i <= last; i++) this.inflight.delete(i);
  }

  private forget(first: bigint, last: bigint): void {
    if (last - first > BigInt(this.blocks.size + this.inflight.size)) {
      for (const i of [...this.blocks.keys(), ...this.inflight.keys()]) if (i >= first && i <= last) this.drop(i);
    } else {
      for (let i = first; i <= last; i++) this.drop(i);
    }
  }

  private drop(index: bigint): void {
    this.blocks.delete(index);
    this.inflight.delete(index);
  }
}

export function cache(dev: BlockDevice, opts: CacheOptions = {}): CacheFilter {
  return new CacheFilter(dev, opts);
}

export const cacheKind = filterKind<CacheOptions>('cache', { blocksize: parseBytes, size: parseBytes }, cache);
