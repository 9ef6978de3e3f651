/**
 * Block access for the driver: a bounded cache of metadata blocks, contiguous data reads in
 * one device request, and the in-memory journal overlay (blocks a dirty journal would
 * replay) patched over whatever comes from the device.
 */
import type { BlockDevice } from '../../disk/block-device.js';
import { Lru } from '../../disk/lru.js';
import { corrupt } from '../errors.js';

/**
 * A block replaced by the journal: its content is the device block `from` (kept there, not in
 * memory, so a large journal costs no memory), with its first word put back when jbd2 had
 * escaped it.
 */
export interface OverlayBlock {
  from: number;
  restoreWord: number | null;
}

/** Bytes of metadata blocks kept in memory. */
const CACHE_BYTES = 32 << 20;
const PREFETCH_GAP = 8;
const PREFETCH_MAX = 256;

export class BlockIO {
  private readonly cache: Lru<number, Buffer>;
  /** Journal blocks that replace device blocks (read-only open of a dirty journal). */
  overlay = new Map<number, OverlayBlock>();
  /**
   * Metadata blocks changed by the running transaction of a journaled writable open: `write`
   * keeps them here (and in the cache) until the commit logs them and writes them in place.
   * Null without a journal, where `write` goes straight to the device.
   */
  running: Map<number, Buffer> | null = null;

  private readonly cacheBlocks: number;

  constructor(
    readonly dev: BlockDevice,
    readonly blockSize: number,
    readonly blocksCount: bigint,
  ) {
    this.cacheBlocks = CACHE_BYTES / blockSize;
    this.cache = new Lru(this.cacheBlocks);
  }

  get name(): string {
    return this.dev.name;
  }

  checkBlock(block: number, count: number, what: string): void {
    if (!Number.isSafeInteger(block) || block < 0 || count < 0 || BigInt(block) + BigInt(count) > this.blocksCount) {
      throw corrupt(this.dev.name, what, `block ${block}${count > 1 ? `+${count}` : ''} is outside the filesystem of ${this.blocksCount} blocks`);
    }
  }

  /** One metadata block, cached. The buffer is shared: copy before changing it. */
  async block(block: number, what: string): Promise<Buffer> {
    const hit = this.cache.get(block);
    if (hit) return hit;
    this.checkBlock(block, 1, what);
    const buf = await this.readBlocks(block, 1);
    this.remember(block, buf);
    return buf;
  }

  /** The content an overlay entry stands for, read from where the journal keeps it. */
  async overlayData(o: OverlayBlock): Promise<Buffer> {
    const buf = await this.dev.read(BigInt(o.from) * BigInt(this.blockSize), this.blockSize);
    if (o.restoreWord !== null) buf.writeUInt32BE(o.restoreWord, 0);
    return buf;
  }

  /** A cached block without I/O, or undefined. */
  cached(block: number): Buffer | undefined {
    return this.cache.peek(block);
  }

  /** `count` contiguous blocks in one device read, uncached (file data). */
  async readBlocks(block: number, count: number): Promise<Buffer> {
    const buf = await this.dev.read(BigInt(block) * BigInt(this.blockSize), count * this.blockSize);
    if (this.overlay.size) {
      for (let i = 0; i < count; i++) {
        const o = this.overlay.get(block + i);
        if (o) (await this.overlayData(o)).copy(buf, i * this.blockSize);
      }
    }
    if (this.running?.size) {
      for (let i = 0; i < count; i++) this.running.get(block + i)?.copy(buf, i * this.blockSize);
    }
    return buf;
  }

  /**
   * File data from byte `skip` of block `block` on, straight into `into` (uncached). The
   * journal's blocks replace whole blocks, so while there are any the blocks are read whole
   * and patched, then copied.
   */
  async readInto(block: number, skip: number, into: Buffer): Promise<void> {
    if (this.overlay.size || this.running?.size) {
      const count = Math.ceil((skip + into.length) / this.blockSize);
      (await this.readBlocks(block, count)).copy(into, 0, skip, skip + into.length);
      return;
    }
    await this.dev.readInto(BigInt(block) * BigInt(this.blockSize) + BigInt(skip), into);
  }

  /** Write metadata blocks: into the running transaction when there is one, else to the device. */
  async write(block: number, data: Buffer): Promise<void> {
    if (!this.running) return this.writeData(block, data);
    const n = data.length / this.blockSize;
    this.checkBlock(block, n, 'write');
    for (let i = 0; i < n; i++) {
      const b = Buffer.from(data.subarray(i * this.blockSize, (i + 1) * this.blockSize));
      this.running.set(block + i, b);
      const hit = this.cache.peek(block + i);
      if (hit && hit !== data) b.copy(hit);
    }
  }

  /**
   * Write blocks straight to the device (file data, the journal itself, checkpoints) and keep
   * the cache coherent, and the running transaction too: a block it holds (a file's tail
   * zeroed by a truncate) keeps its newest content there, or its checkpoint would undo this.
   */
  async writeData(block: number, data: Buffer): Promise<void> {
    this.checkBlock(block, data.length / this.blockSize, 'write');
    await this.dev.write(BigInt(block) * BigInt(this.blockSize), data);
    // Update cached blocks in place: inodes are views of their table blocks.
    for (let i = 0; i < data.length / this.blockSize; i++) {
      const hit = this.cache.peek(block + i);
      if (hit && hit !== data) data.copy(hit, 0, i * this.blockSize, (i + 1) * this.blockSize);
      const logged = this.running?.get(block + i);
      if (logged && logged !== data) data.copy(logged, 0, i * this.blockSize, (i + 1) * this.blockSize);
    }
  }

  /** Load many metadata blocks into the cache, reading runs of nearby blocks together. */
  async prefetch(blocks: number[], what: string): Promise<void> {
    const want = blocks.filter((b) => !this.cache.has(b)).sort((a, b) => a - b);
    if (want.length > this.cacheBlocks / 2) want.length = this.cacheBlocks / 2;
    const reads: Promise<void>[] = [];
    for (let i = 0; i < want.length;) {
      let j = i + 1;
      // Gaps of a few blocks are cheaper to read through than to split on.
      while (j < want.length && want[j]! - want[j - 1]! <= PREFETCH_GAP && want[j]! - want[i]! < PREFETCH_MAX) j++;
      const start = want[i]!;
      const count = want[j - 1]! - start + 1;
      this.checkBlock(start, count, what);
      reads.push(this.readBlocks(start, count).then((buf) => {
        for (let k = 0; k < count; k++) this.remember(start + k, Buffer.from(buf.subarray(k * this.blockSize, (k + 1) * this.blockSize)));
      }));
      i = j;
    }
    await Promise.all(reads);
  }

  /** Put a block in the cache (after building it in memory). */
  remember(block: number, buf: Buffer): void {
    this.cache.set(block, buf);
  }

  forget(block: number): void {
    this.cache.delete(block);
  }
}
