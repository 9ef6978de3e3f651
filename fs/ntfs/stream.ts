/**
 * Reading one attribute's bytes: resident values, non-resident runs (sparse runs and the
 * tail past the initialized size read as zeros) and LZNT1-compressed units.
 */
import type { BlockDevice } from '../../disk/block-device.js';
import { corrupt, FsError } from '../errors.js';
import { ATTR_FLAG, type AttrRecord } from './attribute.js';
import { lznt1Decompress } from './lznt1.js';
import { findRun } from './runlist.js';
import { allSettled } from '../../disk/settle.js';

/** An attribute with its extents merged: what a stream reads. */
export type Attribute = Pick<
  AttrRecord,
  'type' | 'name' | 'flags' | 'resident' | 'value' | 'runs' | 'allocSize' | 'dataSize' | 'initSize' | 'compSize' | 'cuShift'
>;

export interface VolumeIo {
  dev: BlockDevice;
  clusterSize: number;
  totalClusters: number;
}

/**
 * Windows compresses in units of 16 clusters, and only on clusters of at most 4 KiB; ntfs-3g
 * reads nothing else either. Any other unit in a compressed attribute is damage.
 */
const CU_SHIFT = 4;
const MAX_COMPRESSED_CLUSTER = 4096;

export function isCompressed(a: Attribute): boolean {
  return !a.resident && (a.flags & ATTR_FLAG.COMPRESSED) !== 0;
}

export class AttrStream {
  private unitCache?: { index: number; data: Buffer };

  constructor(
    private readonly io: VolumeIo,
    readonly attr: Attribute,
    /** Names the stream in errors: "MFT record 70 $DATA". */
    readonly what: string,
  ) {}

  get size(): number {
    return this.attr.dataSize;
  }

  /** Device byte offset of stream byte `pos`, or undefined when sparse/resident. */
  deviceOffset(pos: number): bigint | undefined {
    if (this.attr.resident) return undefined;
    const cs = this.io.clusterSize;
    const i = findRun(this.attr.runs, Math.floor(pos / cs));
    const r = this.attr.runs[i];
    if (!r || r.lcn < 0) return undefined;
    return BigInt(r.lcn) * BigInt(cs) + BigInt(pos - r.vcn * cs);
  }

  /** Read up to `length` bytes at `offset`; short only at the end of the data. */
  async read(offset: number, length: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(Math.max(0, Math.min(this.attr.dataSize, offset + length) - offset));
    return buf.subarray(0, await this.readInto(offset, buf));
  }

  /** `read` into the caller's buffer, each run straight into place: the count. */
  async readInto(offset: number, buf: Buffer): Promise<number> {
    const a = this.attr;
    const end = Math.min(a.dataSize, offset + buf.length);
    if (offset >= end) return 0;
    const out = buf.subarray(0, end - offset);
    if (a.resident) return a.value!.copy(out, 0, offset, end);
    if (isCompressed(a)) {
      await this.readCompressed(offset, end, out);
      return out.length;
    }
    const direct = this.directRun(offset, end);
    if (direct !== undefined) {
      await this.io.dev.readInto(direct, out);
      return out.length;
    }
    // Past the initialized size a stream reads as zeros.
    const init = Math.min(end, a.initSize);
    out.fill(0, Math.max(0, init - offset));
    await this.readRaw(offset, init, out);
    return out.length;
  }

  /** The device offset when [offset, end) is initialized data inside one allocated run. */
  private directRun(offset: number, end: number): bigint | undefined {
    if (end > this.attr.initSize) return undefined;
    const cs = this.io.clusterSize;
    const r = this.attr.runs[findRun(this.attr.runs, Math.floor(offset / cs))];
    if (!r || r.lcn < 0 || end > (r.vcn + r.len) * cs) return undefined;
    return BigInt(r.lcn) * BigInt(cs) + BigInt(offset - r.vcn * cs);
  }

  /** Fill `out` from stream bytes [offset, end) through the runs; sparse runs read as zeros. */
  private async readRaw(offset: number, end: number, out: Buffer): Promise<void> {
    const cs = this.io.clusterSize;
    const runs = this.attr.runs;
    let pos = offset;
    let i = findRun(runs, Math.floor(pos / cs));
    const reads: Promise<void>[] = [];
    try {
      while (pos < end) {
        const r = runs[i];
        if (!r || pos < r.vcn * cs) throw corrupt(this.io.dev.name, this.what, `no run maps byte ${pos} (VCN ${Math.floor(pos / cs)})`);
        const runEnd = Math.min(end, (r.vcn + r.len) * cs);
        const into = out.subarray(pos - offset, runEnd - offset);
        if (r.lcn >= 0) reads.push(this.io.dev.readInto(BigInt(r.lcn) * BigInt(cs) + BigInt(pos - r.vcn * cs), into));
        else into.fill(0);
        pos = runEnd;
        i++;
      }
    } catch (e) {
      // Reads already started land in `out` before we answer.
      await Promise.allSettled(reads);
      throw e;
    }
    await allSettled(reads);
  }

  private async readCompressed(offset: number, end: number, out: Buffer): Promise<void> {
    const cs = this.io.clusterSize;
    if (this.attr.cuShift !== CU_SHIFT || cs > MAX_COMPRESSED_CLUSTER) {
      throw corrupt(this.io.dev.name, this.what, `compression unit of 2^${this.attr.cuShift} clusters of ${cs} bytes (only 2^${CU_SHIFT} clusters of at most ${MAX_COMPRESSED_CLUSTER} bytes are written by Windows)`);
    }
    const unitSize = cs << CU_SHIFT;
    for (let u = Math.floor(offset / unitSize); u * unitSize < end; u++) {
      const data = await this.unit(u, unitSize);
      const from = Math.max(offset, u * unitSize);
      const to = Math.min(end, (u + 1) * unitSize);
      data.copy(out, from - offset, from - u * unitSize, to - u * unitSize);
    }
  }

  /** One compression unit: all clusters allocated = stored, none = zeros, else LZNT1. */
  private async unit(u: number, unitSize: number): Promise<Buffer> {
    if (this.unitCache?.index === u) return this.unitCache.data;
    const cs = this.io.clusterSize;
    const per = 1 << CU_SHIFT;
    const first = u * per;
    let allocated = 0;
    let sparse = 0;
    const pieces: { lcn: number; len: number }[] = [];
    for (let i = findRun(this.attr.runs, first); i >= 0 && i < this.attr.runs.length; i++) {
      const r = this.attr.runs[i]!;
      if (r.vcn >= first + per) break;
      const s = Math.max(first, r.vcn);
      const e = Math.min(first + per, r.vcn + r.len);
      if (r.lcn < 0) sparse += e - s;
      else {
        allocated += e - s;
        pieces.push({ lcn: r.lcn + (s - r.vcn), len: e - s });
      }
    }
    let data: Buffer;
    if (allocated === 0) {
      data = Buffer.alloc(unitSize);
    } else {
      const raw = Buffer.concat(await Promise.all(pieces.map((p) => this.io.dev.read(BigInt(p.lcn) * BigInt(cs), p.len * cs))));
      if (allocated === per || sparse === 0) {
        data = Buffer.alloc(unitSize);
        raw.copy(data);
      } else {
        const d = lznt1Decompress(raw, unitSize);
        if (typeof d === 'string') throw corrupt(this.io.dev.name, this.what, `LZNT1 compression unit ${u}: ${d}`, BigInt(pieces[0]!.lcn) * BigInt(cs));
        data = d;
      }
    }
    this.unitCache = { index: u, data };
    return data;
  }
}

export function refuseEncrypted(what: string): never {
  throw new FsError('EACCES', `${what}: file is encrypted (EFS); its contents cannot be read without the user's key`);
}
