/**
 * Guest ranges to host ranges: walks L1 and L2 entries ("Cluster mapping" and "Extended L2
 * Entries" in qcow2.txt) and returns runs, merging neighbours of the same kind so that a
 * read of contiguous clusters becomes one file read.
 */
import { DiskError } from '../errors.js';
import { compressedDesc } from './compressed.js';
import type { Qcow2Header } from './header.js';
import { COMPRESSED_HI, entryOffset, type L2Tables } from './tables.js';

export const DATA = 0;
export const ZERO = 1;
/** Not allocated in this image: read from the backing file, or zeros. */
export const UNALLOCATED = 2;
export const COMPRESSED = 3;
export type Kind = typeof DATA | typeof ZERO | typeof UNALLOCATED | typeof COMPRESSED;

export interface Segment {
  kind: Kind;
  /** Offset of the run from the start of the mapped range. */
  start: number;
  length: number;
  /** DATA: host offset of the run's first byte. COMPRESSED: offset inside the guest cluster. */
  host: number;
  /** COMPRESSED: the cluster descriptor (bits 0-61 of the L2 entry). */
  desc: bigint;
}

const SUBCLUSTERS = 32;

export class Mapper {
  private readonly cs: number;
  private readonly subSize: number;

  constructor(
    private readonly image: string,
    private readonly h: Qcow2Header,
    private readonly tables: L2Tables,
    /** The image file's current size (it grows while writing). */
    private readonly fileSize: () => bigint,
  ) {
    this.cs = h.clusterSize;
    this.subSize = h.clusterSize / SUBCLUSTERS;
  }

  /** The runs covering guest range [offset, offset + length). */
  async map(offset: bigint, length: number): Promise<Segment[]> {
    const { cs, tables } = this;
    const segs: Segment[] = [];
    let cluster = Number(offset >> BigInt(this.h.clusterBits));
    let inCluster = Number(offset & BigInt(cs - 1));
    let pos = 0;
    while (pos < length) {
      const l1Index = Math.floor(cluster / tables.l2Entries);
      let l2Index = cluster % tables.l2Entries;
      const l2Offset = tables.l2Offset(l1Index);
      if (l2Offset === 0) {
        const span = Math.min((tables.l2Entries - l2Index) * cs - inCluster, length - pos);
        push(segs, UNALLOCATED, pos, span, 0, 0n);
        pos += span;
        cluster += Math.floor((inCluster + span) / cs);
        inCluster = (inCluster + span) % cs;
        continue;
      }
      const table = await tables.table(l2Offset);
      for (; pos < length && l2Index < tables.l2Entries; l2Index++, cluster++, inCluster = 0) {
        const n = Math.min(cs - inCluster, length - pos);
        this.entry(segs, table, l2Offset, l2Index, pos, inCluster, n);
        pos += n;
      }
    }
    return segs;
  }

  /** Runs for bytes [inCluster, inCluster + n) of the cluster described by one L2 entry. */
  private entry(segs: Segment[], table: Buffer, l2Offset: number, l2Index: number, pos: number, inCluster: number, n: number): void {
    const at = l2Index * this.tables.entryBytes;
    const hi = table.readUInt32BE(at);
    const lo = table.readUInt32BE(at + 4);
    if (hi & COMPRESSED_HI) {
      push(segs, COMPRESSED, pos, n, inCluster, compressedDesc(hi, lo));
      return;
    }
    const host = entryOffset(hi, lo);
    if (!this.h.extendedL2) {
      if (this.h.version === 3 && lo & 1) push(segs, ZERO, pos, n, 0, 0n);
      else if (host === 0) push(segs, UNALLOCATED, pos, n, 0, 0n);
      else push(segs, DATA, pos, n, this.checkHost(host, inCluster + n, l2Offset, at) + inCluster, 0n);
      return;
    }
    const zeroBits = table.readUInt32BE(at + 8);
    const allocBits = table.readUInt32BE(at + 12);
    const sub = this.subSize;
    for (let s = Math.floor(inCluster / sub), end = inCluster + n; s * sub < end; s++) {
      const from = Math.max(inCluster, s * sub);
      const len = Math.min(end, (s + 1) * sub) - from;
      const at0 = pos + from - inCluster;
      if ((allocBits >>> s) & 1) push(segs, DATA, at0, len, this.checkHost(host, from + len, l2Offset, at) + from, 0n);
      else if ((zeroBits >>> s) & 1) push(segs, ZERO, at0, len, 0, 0n);
      else push(segs, UNALLOCATED, at0, len, 0, 0n);
    }
  }

  /** A data cluster's host offset, checked: aligned, and its first `end` bytes in the file. */
  private checkHost(host: number, end: number, l2Offset: number, at: number): number {
    if (host === 0 || host % this.cs !== 0) {
      throw new DiskError(this.image, `L2 entry ${at / this.tables.entryBytes} of the L2 table at ${l2Offset} has an invalid host offset ${host}`, l2Offset + at);
    }
    const size = this.fileSize();
    if (BigInt(host + end) > size) {
      throw new DiskError(this.image, `L2 entry ${at / this.tables.entryBytes} of the L2 table at ${l2Offset} points to ${host}, past the end of the file (${size} bytes)`, l2Offset + at);
    }
    return host;
  }
}

function push(segs: Segment[], kind: Kind, start: number, length: number, host: number, desc: bigint): void {
  const last = segs[segs.length - 1];
  if (last && last.kind === kind && kind !== COMPRESSED && (kind !== DATA || last.host + last.length === host)) {
    last.length += length;
    return;
  }
  segs.push({ kind, start, length, host, desc });
}
