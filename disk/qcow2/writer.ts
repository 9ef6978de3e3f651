/**
 * Writes to a qcow2 image. Guest data goes straight to the file; L1/L2 and refcount changes
 * stay in memory until `flush`, which puts them on disk in crash-safe order:
 *   data and new refcounts -> sync -> L2 tables -> sync -> L1 entries -> sync -> decrements.
 * New clusters are taken at the end of the file. A partly written cluster that is not yet
 * allocated here (unallocated, zero, compressed, or with unallocated subclusters) is filled
 * with what the guest sees there now, so compressed clusters are never written in place.
 */
import { DiskError } from '../errors.js';
import type { RawFile } from '../raw.js';
import { compressedRange } from './compressed.js';
import { H, type Qcow2Header } from './header.js';
import { Refcounts } from './refcounts.js';
import { entryOffset, putEntry, type L2Tables } from './tables.js';

/** Flush on our own once this many L2 tables are dirty, to bound the memory they pin. */
const MAX_DIRTY_TABLES = 64;
const ALL_SUBCLUSTERS = 0xffffffff;

export class Qcow2Writer {
  private refcounts: Refcounts | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private dataDirty = false;

  constructor(
    private readonly file: RawFile,
    private readonly image: string,
    private readonly h: Qcow2Header,
    private readonly tables: L2Tables,
    /** Read the guest view (used to fill the rest of a cluster being allocated). */
    private readonly read: (offset: bigint, length: number) => Promise<Buffer>,
  ) {}

  /** Load the refcount table (before the first write). */
  async init(): Promise<void> {
    this.refcounts = await Refcounts.load(this.file, this.image, this.h);
  }

  write(offset: bigint, data: Uint8Array): Promise<void> {
    return this.serial(() => this.doWrite(offset, data));
  }

  flush(): Promise<void> {
    return this.serial(() => this.doFlush());
  }

  /** One write or flush at a time: allocation and table updates must not interleave. */
  private serial(fn: () => Promise<void>): Promise<void> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async doWrite(offset: bigint, data: Uint8Array): Promise<void> {
    if (this.h.autoclear !== 0n) {
      // qcow2.txt: a writer must clear auto-clear bits it does not know before writing.
      await this.file.write(BigInt(H.autoclear), Buffer.alloc(8));
      await this.file.flush();
      this.h.autoclear = 0n;
    }
    const cs = this.h.clusterSize;
    let cluster = Number(offset >> BigInt(this.h.clusterBits));
    let inCluster = Number(offset & BigInt(cs - 1));
    for (let pos = 0; pos < data.length; cluster++, inCluster = 0) {
      const n = Math.min(cs - inCluster, data.length - pos);
      await this.writeCluster(cluster, inCluster, data.subarray(pos, pos + n));
      pos += n;
    }
    this.dataDirty = true;
    if (this.tables.dirtyTables > MAX_DIRTY_TABLES) await this.doFlush();
  }

  private async writeCluster(cluster: number, inCluster: number, chunk: Uint8Array): Promise<void> {
    const { tables } = this;
    const l1Index = Math.floor(cluster / tables.l2Entries);
    let l2Offset = tables.l2Offset(l1Index);
    let table: Buffer;
    if (l2Offset === 0) {
      l2Offset = await this.refcounts!.allocate(1);
      table = tables.addTable(l1Index, l2Offset);
    } else {
      table = await tables.table(l2Offset);
    }
    const at = (cluster % tables.l2Entries) * tables.entryBytes;
    const hi = table.readUInt32BE(at);
    const lo = table.readUInt32BE(at + 4);
    const compressed = (hi & 0x40000000) !== 0;
    const host = compressed ? 0 : entryOffset(hi, lo);
    if (host !== 0) this.checkHost(host, l2Offset + at);
    if (host !== 0 && this.readsFromHost(table, at, lo, inCluster, chunk.length)) {
      await this.file.write(BigInt(host + inCluster), chunk);
      return;
    }
    const content = await this.clusterContent(cluster, inCluster, chunk);
    const target = host !== 0 ? host : await this.refcounts!.allocate(1);
    await this.file.write(BigInt(target), content);
    if (compressed) {
      const r = compressedRange((BigInt(hi & 0x3fffffff) << 32n) | BigInt(lo), this.h.clusterBits);
      this.refcounts!.freeLater(r.start - (r.start % 512), r.end);
    }
    putEntry(table, at, target);
    if (this.h.extendedL2) {
      table.writeUInt32BE(0, at + 8);
      table.writeUInt32BE(ALL_SUBCLUSTERS, at + 12);
    }
    tables.markDirty(l2Offset, table);
  }

  /** Whether bytes [inCluster, +length) of this allocated cluster read from its host cluster. */
  private readsFromHost(table: Buffer, at: number, lo: number, inCluster: number, length: number): boolean {
    if (!this.h.extendedL2) return !(this.h.version === 3 && lo & 1);
    const sub = this.h.clusterSize / 32;
    const first = Math.floor(inCluster / sub);
    const last = Math.floor((inCluster + length - 1) / sub);
    const wanted = last - first === 31 ? ALL_SUBCLUSTERS : (((1 << (last - first + 1)) - 1) << first) >>> 0;
    return ((table.readUInt32BE(at + 12) & wanted) >>> 0) === wanted;
  }

  /** The whole cluster as it will be: the current guest view with `chunk` over it. */
  private async clusterContent(cluster: number, inCluster: number, chunk: Uint8Array): Promise<Buffer> {
    const cs = this.h.clusterSize;
    const guest = BigInt(cluster) << BigInt(this.h.clusterBits);
    const inImage = Number(this.h.size - guest < BigInt(cs) ? this.h.size - guest : BigInt(cs));
    const buf = Buffer.alloc(cs);
    if (inCluster !== 0 || chunk.length < inImage) (await this.read(guest, inImage)).copy(buf);
    buf.set(chunk, inCluster);
    return buf;
  }

  /** A host cluster written in place (allocated, preallocated zero, or partly allocated subclusters). */
  private checkHost(host: number, where: number): void {
    if (host % this.h.clusterSize !== 0 || BigInt(host + this.h.clusterSize) > this.file.size) {
      throw new DiskError(this.image, `L2 entry points to host cluster ${host}, which is not a cluster inside the file`, where);
    }
  }

  private async doFlush(): Promise<void> {
    const synced = await this.refcounts!.writeIncrements();
    if (this.dataDirty && !synced) await this.file.flush();
    this.dataDirty = false;
    if (await this.tables.writeL2s()) await this.file.flush();
    if (await this.tables.writeL1()) await this.file.flush();
    await this.refcounts!.applyFrees();
  }
}
