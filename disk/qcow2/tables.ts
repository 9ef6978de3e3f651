/**
 * The L1 table (held whole in memory, bounded by the header check) and the L2 tables (one
 * cluster each, behind a bounded LRU cache). Tables changed by writes stay pinned until
 * `writeL2s`/`writeL1` put them on disk, so a dirty table is never dropped by the cache.
 */
import type { BlockDevice } from '../block-device.js';
import { DiskError } from '../errors.js';
import type { Qcow2Header } from './header.js';
import { Lru } from '../lru.js';

/** Bit 63 of L1/L2 entries: the referenced cluster's refcount is exactly one. */
export const COPIED_HI = 0x80000000;
/** Bit 62 of L2 entries: a compressed cluster. */
export const COMPRESSED_HI = 0x40000000;
/** Cache at most this many bytes of L2 tables (and at least a few tables). */
const L2_CACHE_BYTES = 32 << 20;
const MIN_CACHED_TABLES = 16;

/** Bits 9-55 of a table entry given as its two big-endian 32-bit halves. */
export function entryOffset(hi: number, lo: number): number {
  return (hi & 0x00ffffff) * 0x100000000 + ((lo & 0xfffffe00) >>> 0);
}

/** Write a host offset with the COPIED bit into the 8 bytes at `at`. */
export function putEntry(buf: Buffer, at: number, offset: number): void {
  buf.writeUInt32BE((COPIED_HI | Math.floor(offset / 0x100000000)) >>> 0, at);
  buf.writeUInt32BE(offset % 0x100000000, at + 4);
}

export class L2Tables {
  /** Entries per L2 table, and bytes per entry (16 with extended L2 entries). */
  readonly l2Entries: number;
  readonly entryBytes: number;
  private readonly cache: Lru<number, Buffer>;
  private readonly loading = new Map<number, Promise<Buffer>>();
  private readonly dirtyL2 = new Map<number, Buffer>();
  private readonly dirtyL1 = new Set<number>();

  private constructor(
    private readonly file: BlockDevice,
    private readonly image: string,
    private readonly h: Qcow2Header,
    private readonly l1: Buffer,
  ) {
    this.entryBytes = h.extendedL2 ? 16 : 8;
    this.l2Entries = h.clusterSize / this.entryBytes;
    this.cache = new Lru(Math.max(MIN_CACHED_TABLES, Math.floor(L2_CACHE_BYTES / h.clusterSize)));
  }

  static async load(file: BlockDevice, image: string, h: Qcow2Header): Promise<L2Tables> {
    const l1 = h.l1Size === 0 ? Buffer.alloc(0) : await file.read(BigInt(h.l1TableOffset), h.l1Size * 8);
    return new L2Tables(file, image, h, l1);
  }

  /** Host offset of the L2 table for L1 entry `index`, or 0 when it is unallocated. */
  l2Offset(index: number): number {
    const at = index * 8;
    const offset = entryOffset(this.l1.readUInt32BE(at), this.l1.readUInt32BE(at + 4));
    if (offset === 0) return 0;
    const where = this.h.l1TableOffset + at;
    if (offset % this.h.clusterSize !== 0) {
      throw new DiskError(this.image, `L1 entry ${index} points to an L2 table at ${offset}, which is not cluster-aligned`, where);
    }
    if (offset + this.h.clusterSize > this.file.size) {
      throw new DiskError(this.image, `L1 entry ${index} points to an L2 table at ${offset}, past the end of the file (${this.file.size} bytes)`, where);
    }
    return offset;
  }

  /** The L2 table at host offset `offset` (from `l2Offset`). */
  table(offset: number): Promise<Buffer> {
    const pinned = this.dirtyL2.get(offset) ?? this.cache.get(offset);
    if (pinned) return Promise.resolve(pinned);
    let pending = this.loading.get(offset);
    if (!pending) {
      pending = this.file.read(BigInt(offset), this.h.clusterSize).then(
        (buf) => {
          this.loading.delete(offset);
          this.cache.set(offset, buf);
          return buf;
        },
        (e: unknown) => {
          this.loading.delete(offset);
          throw e;
        },
      );
      this.loading.set(offset, pending);
    }
    return pending;
  }

  /** Point L1 entry `index` at a new, empty L2 table at host offset `offset`. */
  addTable(index: number, offset: number): Buffer {
    const buf = Buffer.alloc(this.h.clusterSize);
    this.dirtyL2.set(offset, buf);
    this.cache.set(offset, buf);
    putEntry(this.l1, index * 8, offset);
    this.dirtyL1.add(index);
    return buf;
  }

  /** Record that the L2 table at `offset` changed in memory. */
  markDirty(offset: number, buf: Buffer): void {
    this.dirtyL2.set(offset, buf);
  }

  get dirtyTables(): number {
    return this.dirtyL2.size;
  }

  get dirty(): boolean {
    return this.dirtyL2.size > 0 || this.dirtyL1.size > 0;
  }

  async writeL2s(): Promise<boolean> {
    if (this.dirtyL2.size === 0) return false;
    for (const [offset, buf] of this.dirtyL2) await this.file.write(BigInt(offset), buf);
    this.dirtyL2.clear();
    return true;
  }

  async writeL1(): Promise<boolean> {
    if (this.dirtyL1.size === 0) return false;
    for (const index of [...this.dirtyL1].sort((a, b) => a - b)) {
      await this.file.write(BigInt(this.h.l1TableOffset + index * 8), this.l1.subarray(index * 8, index * 8 + 8));
    }
    this.dirtyL1.clear();
    return true;
  }
}
