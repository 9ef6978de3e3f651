/**
 * Writes to a qcow2 image. Guest data goes straight to the file; L1/L2 and refcount changes
 * stay in memory until `flush`, which puts them on disk in crash-safe order:
 *   data and new refcounts -> sync -> L2 tables -> sync -> L1 entries -> sync -> decrements.
 * New clusters are taken at the end of the file. A partly written cluster that is not yet
 * allocated here (unallocated, zero, compressed, or with unallocated subclusters) is filled
 * with what the guest sees there now, so compressed clusters are never written in place.
 *
 * Allocation and table updates run one write at a time, but the data of whole new clusters
 * lands outside that queue, so a copy keeps several file writes in flight as it does on a raw
 * target. Whatever must see that data on the file (a flush, a write into a cluster in place,
 * a read) waits for it to land first.
 */
import { DiskError } from '../errors.js';
import type { RawFile } from '../raw.js';
import { compressedDesc, compressedRange } from './compressed.js';
import { H, type Qcow2Header } from './header.js';
import { Refcounts } from './refcounts.js';
import { COMPRESSED_HI, entryOffset, putEntry, type L2Tables } from './tables.js';

/** Flush on our own once this many L2 tables are dirty, to bound the memory they pin. */
const MAX_DIRTY_TABLES = 64;
const ALL_SUBCLUSTERS = 0xffffffff;

export class Qcow2Writer {
  private refcounts: Refcounts | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private dataDirty = false;
  /** Data writes of new clusters still on their way to the file; never rejects. */
  private readonly landing = new Set<Promise<void>>();
  /** A data write failed: the L2 entries pointing to its clusters must never reach the file. */
  private failed: unknown;

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

  /** Resolves once `data` is in the file (not yet synced); `data` must not change until then. */
  async write(offset: bigint, data: Uint8Array): Promise<void> {
    await Promise.all(await this.serial(() => this.doWrite(offset, data)));
  }

  flush(): Promise<void> {
    return this.serial(() => this.doFlush());
  }

  /** Whether data writes are still landing: a read of the image must wait (`landed`) first. */
  get busy(): boolean {
    return this.landing.size > 0;
  }

  /** Every data write started so far has landed (or failed). */
  async landed(): Promise<void> {
    while (this.landing.size > 0) await Promise.all(this.landing);
  }

  /** One write or flush at a time: allocation and table updates must not interleave. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Track a data write of new clusters whose L2 entries already point to them. */
  private land(write: Promise<void>): Promise<void> {
    const tracked = write.catch((e: unknown) => {
      this.failed ??= e;
      throw e;
    });
    const settled: Promise<void> = tracked.then(
      () => void this.landing.delete(settled),
      () => void this.landing.delete(settled),
    );
    this.landing.add(settled);
    return tracked;
  }

  /** The data writes it started, still landing. */
  private async doWrite(offset: bigint, data: Uint8Array): Promise<Promise<void>[]> {
    if (this.h.autoclear !== 0n) {
      // qcow2.txt: a writer must clear auto-clear bits it does not know before writing.
      await this.file.write(BigInt(H.autoclear), Buffer.alloc(8));
      await this.file.flush();
      this.h.autoclear = 0n;
    }
    const cs = this.h.clusterSize;
    const started: Promise<void>[] = [];
    let cluster = Number(offset >> BigInt(this.h.clusterBits));
    let inCluster = Number(offset & BigInt(cs - 1));
    for (let pos = 0; pos < data.length; inCluster = 0) {
      const n = Math.min(cs - inCluster, data.length - pos);
      const run = n === cs ? await this.writeNewClusters(cluster, data.subarray(pos), started) : 0;
      if (run === 0) await this.writeCluster(cluster, inCluster, data.subarray(pos, pos + n));
      pos += run === 0 ? n : run * cs;
      cluster += run === 0 ? 1 : run;
    }
    this.dataDirty = true;
    if (this.tables.dirtyTables > MAX_DIRTY_TABLES) await this.doFlush();
    return started;
  }

  /** The L2 table for `cluster`, allocated (empty) when the L1 entry has none. */
  private async l2For(cluster: number): Promise<{ table: Buffer; l2Offset: number; at: number }> {
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
    return { table, l2Offset, at: (cluster % tables.l2Entries) * tables.entryBytes };
  }

  /**
   * Whole clusters from `cluster` on that have no host cluster of their own (unallocated,
   * zero or compressed), as many as `data` covers in one L2 table: allocated together and
   * written with one file write, which is added to `started`. Returns how many clusters it
   * wrote (0: none qualified).
   */
  private async writeNewClusters(cluster: number, data: Uint8Array, started: Promise<void>[]): Promise<number> {
    const { table, l2Offset, at } = await this.l2For(cluster);
    const { entryBytes, l2Entries } = this.tables;
    const most = Math.min(Math.floor(data.length / this.h.clusterSize), l2Entries - at / entryBytes);
    let count = 0;
    while (count < most && this.hostOf(table, at + count * entryBytes) === 0) count++;
    if (count === 0) return 0;
    const host = await this.refcounts!.allocate(count);
    // Started and pointed to in one step, so a read that maps to these clusters finds it landing.
    started.push(this.land(this.file.write(BigInt(host), data.subarray(0, count * this.h.clusterSize))));
    for (let i = 0; i < count; i++) this.point(table, at + i * entryBytes, host + i * this.h.clusterSize);
    this.tables.markDirty(l2Offset, table);
    return count;
  }

  private async writeCluster(cluster: number, inCluster: number, chunk: Uint8Array): Promise<void> {
    // The cluster may be one still landing: its data goes first, ours over it.
    await this.landed();
    const { table, l2Offset, at } = await this.l2For(cluster);
    const host = this.hostOf(table, at);
    if (host !== 0) this.checkHost(host, l2Offset + at);
    if (host !== 0 && this.readsFromHost(table, at, inCluster, chunk.length)) {
      await this.file.write(BigInt(host + inCluster), chunk);
      return;
    }
    const content = await this.clusterContent(cluster, inCluster, chunk);
    const target = host !== 0 ? host : await this.refcounts!.allocate(1);
    await this.file.write(BigInt(target), content);
    this.point(table, at, target);
    this.tables.markDirty(l2Offset, table);
  }

  /** The host cluster of the L2 entry at `at`; 0 when it has none (or is compressed). */
  private hostOf(table: Buffer, at: number): number {
    const hi = table.readUInt32BE(at);
    return hi & COMPRESSED_HI ? 0 : entryOffset(hi, table.readUInt32BE(at + 4));
  }

  /** Point the L2 entry at `at` to a fully written host cluster, releasing compressed data. */
  private point(table: Buffer, at: number, host: number): void {
    const hi = table.readUInt32BE(at);
    if (hi & COMPRESSED_HI) {
      const r = compressedRange(compressedDesc(hi, table.readUInt32BE(at + 4)), this.h.clusterBits);
      this.refcounts!.freeLater(r.start - (r.start % 512), r.end);
    }
    putEntry(table, at, host);
    if (this.h.extendedL2) {
      table.writeUInt32BE(0, at + 8);
      table.writeUInt32BE(ALL_SUBCLUSTERS, at + 12);
    }
  }

  /** Whether bytes [inCluster, +length) of this allocated cluster read from its host cluster. */
  private readsFromHost(table: Buffer, at: number, inCluster: number, length: number): boolean {
    if (!this.h.extendedL2) return !(this.h.version === 3 && table.readUInt32BE(at + 4) & 1);
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
    await this.landed();
    if (this.failed !== undefined) {
      throw new DiskError(this.image, `a data write failed earlier (${(this.failed as Error).message ?? String(this.failed)}), so the tables pointing to its clusters are not written`);
    }
    const synced = await this.refcounts!.writeIncrements();
    if (this.dataDirty && !synced) await this.file.flush();
    this.dataDirty = false;
    if (await this.tables.writeL2s()) await this.file.flush();
    if (await this.tables.writeL1()) await this.file.flush();
    await this.refcounts!.applyFrees();
  }
}
