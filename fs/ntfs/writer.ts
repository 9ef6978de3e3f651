/**
 * Writing file data: resident values grow in place or move out to clusters, non-resident
 * attributes get new runs from $Bitmap (holes in sparse files are filled), shrink frees
 * clusters. Every changed MFT record is written with fresh fixups, and through $MFTMirr too
 * for the records it mirrors.
 */
import { FsError } from '../errors.js';
import { FIRST_USER } from './ntfs.js';
import { AT, ATTR_FLAG, type AttrRecord } from './attribute.js';
import { ClusterBitmap } from './bitmap.js';
import type { NtfsFile } from './file.js';
import { protectFixups } from './fixup.js';
import type { Mft } from './mft.js';
import type { MftRecord } from './record.js';
import { attributeListValue, emptyRecord, insertAttribute, nonResidentAttr, nonResidentOverhead, replaceAttribute, residentAttr, type NonResidentSizes } from './record-edit.js';
import { parseRecord } from './record.js';
import { encodeRuns, findRun, type Run } from './runlist.js';
import { AttrStream, type VolumeIo } from './stream.js';
import { toNtfsTime } from './time.js';

const BITMAP = 6;
const MFT_MIRR = 1;
const ZERO_CHUNK = 1 << 20;

/** MFT record allocation, which the namespace writer owns. */
export interface RecordAllocator {
  alloc(): Promise<{ num: number; seq: number }>;
  free(num: number): Promise<void>;
}

export class NtfsWriter {
  private bitmap?: ClusterBitmap;
  private mirror?: AttrStream;
  /** Set once the namespace writer exists: extension records come from it. */
  records?: RecordAllocator;
  /** Run once, before the first byte is written (the volume's in-use mark). */
  beforeFirstWrite?: () => Promise<void>;

  constructor(
    private readonly io: VolumeIo,
    private readonly mft: Mft,
  ) {}

  private get cs(): number {
    return this.io.clusterSize;
  }

  private get device(): string {
    return this.io.dev.name;
  }

  private async clusters(): Promise<ClusterBitmap> {
    if (!this.bitmap) {
      const f = await this.mft.file(BITMAP);
      const data = f.find(AT.DATA)!;
      this.bitmap = await ClusterBitmap.load(new AttrStream(this.io, data, '$Bitmap'), this.io.totalClusters, this.device);
    }
    return this.bitmap;
  }

  /** Write bytes at `pos` of a non-resident stream, whose clusters there must be allocated. */
  async writeStream(stream: AttrStream, pos: number, data: Uint8Array): Promise<void> {
    if (this.beforeFirstWrite) {
      const first = this.beforeFirstWrite;
      this.beforeFirstWrite = undefined;
      await first();
    }
    let done = 0;
    while (done < data.length) {
      const p = pos + done;
      const at = stream.deviceOffset(p);
      if (at === undefined) throw new FsError('EIO', `${this.device}: ${stream.what}: byte ${p} has no cluster to write to`);
      const inCluster = this.cs - (p % this.cs);
      const r = stream.attr.runs[findRun(stream.attr.runs, Math.floor(p / this.cs))]!;
      const inRun = (r.vcn + r.len) * this.cs - p;
      const n = Math.min(data.length - done, Math.max(inCluster, inRun));
      await this.io.dev.write(at, data.subarray(done, done + n));
      done += n;
    }
  }

  /**
   * Write a changed record (and its $MFTMirr copy), then drop cached copies. ntfs-3g refuses
   * a volume whose copies differ, and no order of two writes closes that window, so both are
   * issued at once to keep it as short as the kernel allows (ntfs-3g and Windows leave the
   * same window; ntfsfix or chkdsk repair it).
   */
  async writeRecord(rec: MftRecord): Promise<void> {
    const bytes = protectFixups(rec.raw);
    if (!this.mirror) {
      const m = (await this.mft.file(MFT_MIRR)).find(AT.DATA)!;
      this.mirror = new AttrStream(this.io, m, '$MFTMirr');
    }
    const at = rec.number * this.mft.recordSize;
    const mirrored = at + this.mft.recordSize <= this.mirror.size;
    await Promise.all([this.writeStream(this.mft.dataStream, at, bytes), mirrored && this.writeStream(this.mirror, at, bytes)]);
    this.mft.forget(rec.base || rec.number);
    this.mft.forgetChunks();
  }

  private recordOf(f: NtfsFile, a: AttrRecord): MftRecord {
    return f.records.find((r) => r.number === a.record)!;
  }

  /** The one attribute record of `type`/`name`, refusing what this writer cannot change. */
  private streamAttr(f: NtfsFile, type: number, name: string): AttrRecord | undefined {
    const parts = f.all(type).filter((a) => a.name === name);
    if (parts.length === 0) return undefined;
    const what = `${this.device}: MFT record ${f.num}${name ? ` stream "${name}"` : ''}`;
    const a = parts.length > 1 ? (f.find(type, name) as unknown as AttrRecord) : parts[0]!;
    if ((a.flags & ATTR_FLAG.COMPRESSED) !== 0) throw new FsError('ENOTSUP', `${what}: compressed files are read-only in this driver`);
    if ((a.flags & ATTR_FLAG.ENCRYPTED) !== 0) throw new FsError('EACCES', `${what}: encrypted files cannot be written`);
    return a;
  }

  async freeClusters(runs: Run[]): Promise<void> {
    const bm = await this.clusters();
    bm.freeRuns(runs);
    await bm.flush((s, pos, data) => this.writeStream(s, pos, data));
  }

  /** Set $STANDARD_INFORMATION's modification and change times to now. */
  touch(f: NtfsFile): void {
    const si = f.base.attrs.find((a) => a.type === AT.STANDARD_INFORMATION);
    if (!si?.value) return;
    const ms = Date.now();
    const now = toNtfsTime({ sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1e6 });
    si.value.writeBigUInt64LE(now, 8);
    si.value.writeBigUInt64LE(now, 16);
  }

  async write(f: NtfsFile, type: number, name: string, offset: number, data: Uint8Array): Promise<void> {
    const end = offset + data.length;
    const merged = f.find(type, name);
    if (merged && !merged.resident && (merged.flags & (ATTR_FLAG.COMPRESSED | ATTR_FLAG.ENCRYPTED)) === 0 && end <= merged.initSize && allocated(merged.runs, Math.floor(offset / this.cs), Math.ceil(end / this.cs) - 1)) {
      // Overwriting bytes that already have clusters: no runs or sizes change, so this works
      // for data spread over extension records too (a fragmented registry hive, say).
      await this.writeStream(new AttrStream(this.io, merged, `MFT record ${f.num} $DATA`), offset, data);
      // A metadata file's record (the $MFT bitmap's, on every create and unlink) stays as it
      // is: NTFS keeps no times for them, and records 0-3 rewritten are a $MFTMirr to match.
      if (f.num < FIRST_USER) return;
      this.touch(f);
      await this.writeRecord(f.base);
      return;
    }
    const a = this.streamAttr(f, type, name);
    if (!a) throw new FsError('ENOENT', `${this.device}: MFT record ${f.num} has no stream "${name}"`);
    const rec = this.recordOf(f, a);
    if (a.resident) {
      const old = a.value!;
      const value = Buffer.alloc(Math.max(old.length, end));
      old.copy(value);
      Buffer.from(data.buffer, data.byteOffset, data.length).copy(value, offset);
      await this.setResident(f, rec, a, value);
      return;
    }
    const runs = a.runs.map((r) => ({ ...r }));
    const bm = await this.clusters();
    const lastVcn = Math.ceil(end / this.cs) - 1;
    const grown = this.cover(runs, Math.floor(offset / this.cs), lastVcn, bm);
    const stream = new AttrStream(this.io, { ...a, runs: grown }, `MFT record ${f.num} $DATA`);
    if (offset > a.initSize) await this.zero(stream, a.initSize, offset);
    await this.writeStream(stream, offset, data);
    const alloc = allocEnd(grown) * this.cs;
    await this.storeRuns(f, type, name, {
      runs: grown, allocSize: alloc, dataSize: Math.max(a.dataSize, end), initSize: Math.max(a.initSize, end),
    }, bm);
  }

  /**
   * Set the size. `initAll` marks the new bytes initialized (the caller writes them all);
   * `reserve` keeps (or allocates) clusters up to that many bytes, for metadata that grows
   * in steps ($MFT), so it does not fragment one record at a time.
   */
  async truncate(f: NtfsFile, type: number, name: string, size: number, initAll = false, reserve = 0): Promise<void> {
    const a = this.streamAttr(f, type, name);
    if (!a) throw new FsError('ENOENT', `${this.device}: MFT record ${f.num} has no stream "${name}"`);
    const rec = this.recordOf(f, a);
    if (a.resident) {
      const value = Buffer.alloc(size);
      a.value!.copy(value, 0, 0, Math.min(size, a.value!.length));
      await this.setResident(f, rec, a, value);
      return;
    }
    const bm = await this.clusters();
    const keep = Math.max(Math.ceil(size / this.cs), Math.ceil(reserve / this.cs));
    let runs = a.runs.map((r) => ({ ...r }));
    if (keep <= allocEnd(runs)) {
      const freed = cutRuns(runs, keep);
      bm.freeRuns(freed);
    } else if ((a.flags & ATTR_FLAG.SPARSE) !== 0) {
      runs = normalize([...runs, { vcn: allocEnd(runs), lcn: -1, len: keep - allocEnd(runs) }]);
    } else {
      runs = this.cover(runs, allocEnd(runs), keep - 1, bm);
    }
    const init = initAll ? size : Math.min(a.initSize, size);
    await this.storeRuns(f, type, name, { runs, allocSize: allocEnd(runs) * this.cs, dataSize: size, initSize: init }, bm);
  }

  /**
   * Put an attribute's new runs and sizes in place: in its record when they fit there, else
   * spread over fresh extension records named by an $ATTRIBUTE_LIST.
   */
  private async storeRuns(f: NtfsFile, type: number, name: string, sizes: NonResidentSizes, bm: ClusterBitmap): Promise<void> {
    const parts = f.all(type).filter((x) => x.name === name).sort((x, y) => x.startVcn - y.startVcn);
    if (parts.length === 1) {
      const rec = this.recordOf(f, parts[0]!);
      const bytes = nonResidentAttr(parts[0]!, sizes, this.cs);
      if (rec.raw.readUInt32LE(24) - rec.raw.readUInt32LE(parts[0]!.offset + 4) + bytes.length <= rec.raw.length) {
        replaceAttribute(rec, parts[0]!, bytes, this.device);
        await this.commit(f, rec, bm);
        return;
      }
    }
    await this.spread(f, parts, sizes, bm);
  }

  /**
   * Move every extent of one attribute into new extension records, as many as its runs
   * need, and (re)write the base record's $ATTRIBUTE_LIST to name them.
   */
  private async spread(f: NtfsFile, parts: AttrRecord[], sizes: NonResidentSizes, bm: ClusterBitmap): Promise<void> {
    const what = `${this.device}: MFT record ${f.num}`;
    if (!this.records) throw new FsError('ENOSPC', `${what}: runlist does not fit its MFT record`);
    const first = parts[0]!;
    const recSize = this.mft.recordSize;
    const room = recSize - emptyRecord(recSize, 0, 0, 0, 0n).readUInt16LE(20) - 8 - nonResidentOverhead(first);
    // Runs per extent: as many as encode into one fresh record.
    const extents: Run[][] = [];
    let cur: Run[] = [];
    for (const r of sizes.runs) {
      if (cur.length && encodeRuns([...cur, r]).length > room) {
        extents.push(cur);
        cur = [];
      }
      cur.push(r);
    }
    extents.push(cur);
    if (extents.length > 64) throw new FsError('ENOSPC', `${what}: ${extents.length} extension records would be needed`);
    // Take the attribute out of the records it was in.
    const touched = new Map<number, MftRecord>();
    for (const p of parts) {
      const rec = touched.get(p.record) ?? this.recordOf(f, p);
      const live = reparsed(rec, this.device, this.io.totalClusters);
      const at = live.attrs.find((x) => x.type === p.type && x.name === p.name && x.startVcn === p.startVcn)!;
      replaceAttribute(live, at, Buffer.alloc(0), this.device);
      touched.set(p.record, live);
    }
    const baseRef = BigInt(f.num) | (BigInt(f.base.sequence) << 48n);
    const fresh: MftRecord[] = [];
    for (const [i, runs] of extents.entries()) {
      const { num, seq } = await this.records.alloc();
      const raw = emptyRecord(recSize, num, seq, 0x0001, baseRef);
      const rec = reparsed({ number: num, raw, at: 0n } as MftRecord, this.device, this.io.totalClusters);
      const ext = i === 0 ? sizes : { runs, allocSize: 0, dataSize: 0, initSize: 0 };
      insertAttribute(rec, nonResidentAttr(first, { ...ext, runs }, this.cs), this.device);
      fresh.push(reparsed(rec, this.device, this.io.totalClusters));
    }
    // The list: everything left in the old records, plus the new extents.
    const base = touched.get(f.num) ?? f.base;
    const kept = f.records.map((r) => touched.get(r.number) ?? r).map((r) => reparsed(r, this.device, this.io.totalClusters));
    const listed = [...kept, ...fresh].flatMap((r) => r.attrs.filter((x) => x.type !== AT.ATTRIBUTE_LIST).map((a) => ({ a, ref: r.number === f.num ? baseRef : BigInt(r.number) | (BigInt(r.sequence) << 48n) })));
    const value = attributeListValue(listed);
    const liveBase = reparsed(base, this.device, this.io.totalClusters);
    const old = liveBase.attrs.find((x) => x.type === AT.ATTRIBUTE_LIST);
    // A list that was out in clusters comes back into the base record.
    if (old && !old.resident) bm.freeRuns(old.runs);
    const al = residentAttr({ type: AT.ATTRIBUTE_LIST, name: '', flags: 0, id: old?.id ?? 0 } as AttrRecord, value);
    if (old) replaceAttribute(liveBase, old, al, this.device);
    else insertAttribute(liveBase, al, this.device);
    touched.set(f.num, liveBase);
    await bm.flush((s, pos, data) => this.writeStream(s, pos, data));
    for (const r of fresh) await this.writeRecord(r);
    for (const r of touched.values()) {
      if (r.number !== f.num && reparsed(r, this.device, this.io.totalClusters).attrs.length === 0) {
        // An extension record left empty is freed.
        r.raw.writeUInt16LE(r.raw.readUInt16LE(22) & ~0x0001, 22);
        await this.writeRecord(r);
        await this.records.free(r.number);
      } else if (r.number !== f.num) await this.writeRecord(r);
    }
    this.touch({ base: liveBase } as NtfsFile);
    await this.writeRecord(liveBase);
  }

  /** Store `value` resident if the record has room, else move it out to clusters. */
  private async setResident(f: NtfsFile, rec: MftRecord, a: AttrRecord, value: Buffer): Promise<void> {
    const bytes = residentAttr(a, value);
    const used = rec.raw.readUInt32LE(24);
    const oldLen = rec.raw.readUInt32LE(a.offset + 4);
    if (used - oldLen + bytes.length <= rec.raw.length) {
      replaceAttribute(rec, a, bytes, this.device);
      await this.commit(f, rec);
      return;
    }
    await this.moveOut(f, rec, a, value);
  }

  /** Make resident attribute `a` (holding `value`) non-resident: clusters hold the bytes. */
  private async moveOut(f: NtfsFile, rec: MftRecord, a: AttrRecord, value: Buffer): Promise<void> {
    const bm = await this.clusters();
    const count = Math.ceil(value.length / this.cs);
    const runs = this.cover([], 0, count - 1, bm);
    const stream = new AttrStream(this.io, { ...a, resident: false, runs, dataSize: value.length, initSize: value.length, allocSize: count * this.cs }, `MFT record ${f.num} $DATA`);
    const padded = Buffer.alloc(count * this.cs);
    value.copy(padded);
    await this.writeStream(stream, 0, padded);
    replaceAttribute(rec, a, nonResidentAttr(a, { runs, allocSize: count * this.cs, dataSize: value.length, initSize: value.length }, this.cs), this.device);
    await this.commit(f, rec, bm);
  }

  /**
   * Free room in the base record by moving its largest resident stream out to clusters, as
   * ntfs-3g does; false when there is none worth moving.
   */
  async makeRoom(f: NtfsFile): Promise<boolean> {
    const a = f.base.attrs.filter((x) => x.type === AT.DATA && x.resident && x.value!.length >= 16).sort((x, y) => y.value!.length - x.value!.length)[0];
    if (!a) return false;
    await this.moveOut(f, f.base, a, Buffer.from(a.value!));
    return true;
  }

  private async commit(f: NtfsFile, rec: MftRecord, bm?: ClusterBitmap): Promise<void> {
    await bm?.flush((s, pos, data) => this.writeStream(s, pos, data));
    this.touch(f);
    if (rec !== f.base) await this.writeRecord(rec);
    await this.writeRecord(f.base);
  }

  /** Runs with VCNs [from, to] allocated: sparse parts and the part past the end get clusters. */
  private cover(runs: Run[], from: number, to: number, bm: ClusterBitmap): Run[] {
    const out: Run[] = [];
    let hint = 0;
    const place = (vcn: number, len: number): void => {
      for (const p of bm.allocate(len, hint)) {
        out.push({ vcn, lcn: p.lcn, len: p.len });
        vcn += p.len;
        hint = p.lcn + p.len;
      }
    };
    for (const r of runs) {
      if (r.lcn >= 0 || r.vcn + r.len <= from || r.vcn > to) {
        out.push(r);
        if (r.lcn >= 0) hint = r.lcn + r.len;
        continue;
      }
      // A sparse run overlapping [from, to]: split it around the part that gets clusters.
      const s = Math.max(from, r.vcn);
      const e = Math.min(to, r.vcn + r.len - 1);
      if (s > r.vcn) out.push({ vcn: r.vcn, lcn: -1, len: s - r.vcn });
      place(s, e - s + 1);
      if (e < r.vcn + r.len - 1) out.push({ vcn: e + 1, lcn: -1, len: r.vcn + r.len - 1 - e });
    }
    const end = allocEnd(runs);
    if (to >= end) place(Math.max(end, 0), to - end + 1);
    return normalize(out);
  }

  /** Zero stream bytes [from, to) where clusters are allocated (past the initialized size). */
  private async zero(stream: AttrStream, from: number, to: number): Promise<void> {
    for (let p = from; p < to;) {
      const r = stream.attr.runs[findRun(stream.attr.runs, Math.floor(p / this.cs))];
      const runEnd = r ? Math.min(to, (r.vcn + r.len) * this.cs) : to;
      if (r && r.lcn >= 0) {
        for (let q = p; q < runEnd; q += ZERO_CHUNK) await this.writeStream(stream, q, Buffer.alloc(Math.min(ZERO_CHUNK, runEnd - q)));
      }
      p = runEnd;
    }
  }
}

/** Whether clusters [from, to] all have runs with clusters (no holes, not past the end). */
function allocated(runs: Run[], from: number, to: number): boolean {
  for (let v = from; v <= to;) {
    const r = runs[findRun(runs, v)];
    if (!r || r.lcn < 0) return false;
    v = r.vcn + r.len;
  }
  return true;
}

function allocEnd(runs: Run[]): number {
  const last = runs[runs.length - 1];
  return last ? last.vcn + last.len : 0;
}

/** Cut runs to `keep` clusters; returns the runs cut off. */
function cutRuns(runs: Run[], keep: number): Run[] {
  const freed: Run[] = [];
  for (let i = runs.length - 1; i >= 0; i--) {
    const r = runs[i]!;
    if (r.vcn >= keep) {
      freed.push(r);
      runs.splice(i, 1);
    } else if (r.vcn + r.len > keep) {
      const cut = r.vcn + r.len - keep;
      freed.push({ vcn: keep, lcn: r.lcn < 0 ? -1 : r.lcn + (keep - r.vcn), len: cut });
      r.len -= cut;
    }
  }
  return freed;
}

/** Merge neighbouring runs that continue each other. */
function normalize(runs: Run[]): Run[] {
  const out: Run[] = [];
  for (const r of runs) {
    const last = out[out.length - 1];
    if (last && ((last.lcn < 0 && r.lcn < 0) || (last.lcn >= 0 && r.lcn === last.lcn + last.len))) last.len += r.len;
    else out.push({ ...r });
  }
  return out;
}

/** A record re-parsed from its (edited) bytes, so attribute offsets are current. */
function reparsed(r: MftRecord, device: string, totalClusters: number): MftRecord {
  return parseRecord(protectFixups(r.raw), r.number, { device, totalClusters, at: r.at });
}
