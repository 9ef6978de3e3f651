/**
 * Reference counts for writing ("Host cluster management" in qcow2.txt). Clusters are only
 * ever allocated at the end of the file, never reused, so a freed cluster cannot be handed
 * out again before the references to it are gone from disk.
 *
 * Crash ordering: new refcounts (blocks, then the table entries or a moved table, then the
 * header) reach the disk before the L2/L1 entries that use them; decrements wait until after
 * the entries that dropped the reference are on disk. A crash can leak clusters, never
 * leave a referenced cluster with a refcount of zero.
 */
import { DiskError } from '../errors.js';
import type { RawFile } from '../raw.js';
import { H, MAX_REFCOUNT_TABLE_BYTES, type Qcow2Header } from './header.js';

export class Refcounts {
  private table: Buffer;
  private tableOffset: number;
  private tableMoved = false;
  private readonly dirtyEntries = new Set<number>();
  private readonly blocks = new Map<number, Buffer>();
  private readonly dirtyBlocks = new Set<number>();
  /** Host byte ranges whose clusters lose one reference once the next flush has dropped it. */
  private pendingFree: [number, number][] = [];
  /** Entries per refcount block. */
  private readonly perBlock: number;
  private readonly cs: number;
  /** The next free host offset: the first cluster boundary at or after the end of the file. */
  private end: number;

  private constructor(
    private readonly file: RawFile,
    private readonly image: string,
    private readonly h: Qcow2Header,
    table: Buffer,
  ) {
    this.cs = h.clusterSize;
    this.perBlock = (h.clusterSize * 8) >> h.refcountOrder;
    this.table = table;
    this.tableOffset = h.refcountTableOffset;
    this.end = Math.ceil(Number(file.size) / this.cs) * this.cs;
  }

  static async load(file: RawFile, image: string, h: Qcow2Header): Promise<Refcounts> {
    const table = await file.read(BigInt(h.refcountTableOffset), h.refcountTableClusters * h.clusterSize);
    return new Refcounts(file, image, h, table);
  }

  /** Allocate `n` contiguous clusters at the end of the file, refcount 1; returns the offset. */
  async allocate(n: number): Promise<number> {
    const start = this.end;
    this.end += n * this.cs;
    for (let i = 0; i < n; i++) await this.set(start / this.cs + i, 1);
    await this.file.resize(BigInt(this.end));
    return start;
  }

  /** Drop one reference to each cluster overlapping host bytes [start, end) at the next flush. */
  freeLater(start: number, end: number): void {
    this.pendingFree.push([start, end]);
  }

  /** Write new refcounts (and a moved table with its header fields), syncing in between. */
  async writeIncrements(): Promise<boolean> {
    if (this.dirtyBlocks.size === 0 && this.dirtyEntries.size === 0 && !this.tableMoved) return false;
    await this.writeBlocks();
    if (this.tableMoved) await this.file.write(BigInt(this.tableOffset), this.table);
    // New blocks (and a moved table) are on disk before anything points at them.
    await this.file.flush();
    if (this.tableMoved) {
      const fields = Buffer.alloc(12);
      fields.writeBigUInt64BE(BigInt(this.tableOffset), 0);
      fields.writeUInt32BE(this.table.length / this.cs, 8);
      await this.file.write(BigInt(H.refcountTableOffset), fields);
    } else {
      for (const t of this.dirtyEntries) await this.file.write(BigInt(this.tableOffset + t * 8), this.table.subarray(t * 8, t * 8 + 8));
    }
    if (this.tableMoved || this.dirtyEntries.size > 0) await this.file.flush();
    this.tableMoved = false;
    this.dirtyEntries.clear();
    return true;
  }

  /** Apply the pending decrements (call once the references are gone from disk). */
  async applyFrees(): Promise<boolean> {
    if (this.pendingFree.length === 0) return false;
    for (const [start, end] of this.pendingFree) {
      for (let c = Math.floor(start / this.cs); c * this.cs < end; c++) {
        const value = await this.get(c);
        if (value === 0) throw new DiskError(this.image, `refcount of cluster at ${c * this.cs} is already zero while freeing it`);
        await this.set(c, value - 1);
      }
    }
    this.pendingFree = [];
    await this.writeBlocks();
    await this.file.flush();
    return true;
  }

  private async writeBlocks(): Promise<void> {
    for (const offset of this.dirtyBlocks) await this.file.write(BigInt(offset), this.blocks.get(offset)!);
    this.dirtyBlocks.clear();
  }

  private async get(cluster: number): Promise<number> {
    const block = await this.block(Math.floor(cluster / this.perBlock));
    return getRefcount(block, cluster % this.perBlock, this.h.refcountOrder);
  }

  private async set(cluster: number, value: number): Promise<void> {
    const t = Math.floor(cluster / this.perBlock);
    const block = await this.block(t);
    setRefcount(block, cluster % this.perBlock, this.h.refcountOrder, value);
    this.dirtyBlocks.add(this.blockOffset(t));
  }

  private blockOffset(t: number): number {
    return this.table.readUInt32BE(t * 8) * 0x100000000 + ((this.table.readUInt32BE(t * 8 + 4) & 0xfffffe00) >>> 0);
  }

  /** Refcount block `t`, created (refcounting itself) when missing. */
  private async block(t: number): Promise<Buffer> {
    if (t * 8 >= this.table.length) await this.grow(t);
    const offset = this.blockOffset(t);
    if (offset !== 0) return this.load(offset, t);
    const at = this.end;
    this.end += this.cs;
    const buf = Buffer.alloc(this.cs);
    this.blocks.set(at, buf);
    this.dirtyBlocks.add(at);
    this.table.writeBigUInt64BE(BigInt(at), t * 8);
    this.dirtyEntries.add(t);
    await this.set(at / this.cs, 1);
    return buf;
  }

  private async load(offset: number, t: number): Promise<Buffer> {
    const cached = this.blocks.get(offset);
    if (cached) return cached;
    if (offset % this.cs !== 0 || offset + this.cs > Number(this.file.size)) {
      throw new DiskError(this.image, `refcount table entry ${t} points to ${offset}, which is not a cluster inside the file`, this.tableOffset + t * 8);
    }
    const buf = await this.file.read(BigInt(offset), this.cs);
    this.blocks.set(offset, buf);
    return buf;
  }

  /** Move the refcount table to the end of the file with room for entry `needed` and more. */
  private async grow(needed: number): Promise<void> {
    const old = this.table;
    // Double it, and cover the clusters the new table and its refcount blocks will take.
    let bytes = Math.max(old.length * 2, (needed + 1) * 8);
    const reach = (clusters: number) => Math.ceil((this.end / this.cs + clusters + 2) / this.perBlock) * 8;
    while (reach(bytes / this.cs) > bytes) bytes *= 2;
    bytes = Math.ceil(bytes / this.cs) * this.cs;
    if (bytes > MAX_REFCOUNT_TABLE_BYTES) {
      throw new DiskError(this.image, `the refcount table would grow past ${MAX_REFCOUNT_TABLE_BYTES} bytes`);
    }
    const offset = this.end;
    this.end += bytes;
    this.pendingFree.push([this.tableOffset, this.tableOffset + old.length]);
    this.table = Buffer.alloc(bytes);
    old.copy(this.table);
    this.tableOffset = offset;
    this.tableMoved = true;
    for (let i = 0; i < bytes / this.cs; i++) await this.set(offset / this.cs + i, 1);
  }
}

/** Refcount `i` of a block with entries of 2^order bits (sub-byte entries: LSB first). */
function getRefcount(block: Buffer, i: number, order: number): number {
  switch (order) {
    case 6:
      return Number(block.readBigUInt64BE(i * 8));
    case 5:
      return block.readUInt32BE(i * 4);
    case 4:
      return block.readUInt16BE(i * 2);
    case 3:
      return block[i]!;
    default: {
      const bits = 1 << order;
      return (block[(i * bits) >> 3]! >> ((i * bits) & 7)) & ((1 << bits) - 1);
    }
  }
}

function setRefcount(block: Buffer, i: number, order: number, value: number): void {
  switch (order) {
    case 6:
      block.writeBigUInt64BE(BigInt(value), i * 8);
      return;
    case 5:
      block.writeUInt32BE(value, i * 4);
      return;
    case 4:
      block.writeUInt16BE(value, i * 2);
      return;
    case 3:
      block[i] = value;
      return;
    default: {
      const bits = 1 << order;
      const byte = (i * bits) >> 3;
      const shift = (i * bits) & 7;
      const mask = ((1 << bits) - 1) << shift;
      block[byte] = (block[byte]! & ~mask) | ((value << shift) & mask);
    }
  }
}
