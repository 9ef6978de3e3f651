/**
 * The Master File Table: record N lives at byte N × record size of $MFT's own $DATA, which
 * is found through record 0 (bootstrapped from the boot sector's LCN, with $MFTMirr as the
 * fallback for a damaged record 0). Records are read in 64 KiB chunks and cached.
 */
import { Lru } from '../../disk/lru.js';
import { corrupt, FsError } from '../errors.js';
import { AT } from './attribute.js';
import type { BootSector } from './boot.js';
import { NtfsFile } from './file.js';
import { parseRecord, RECORD_FLAG, type MftRecord } from './record.js';
import { AttrStream, type VolumeIo } from './stream.js';

const CHUNK = 64 * 1024;
const CHUNK_CACHE = 512;
const FILE_CACHE = 8192;
const MAX_ATTR_LIST = 1 << 20;
const MAX_EXTENSIONS = 1024;

export class Mft {
  private stream!: AttrStream;
  private chunks = new Lru<number, Promise<Buffer>>(CHUNK_CACHE);
  private files = new Lru<number, NtfsFile>(FILE_CACHE);
  readonly recordSize: number;

  private constructor(
    readonly io: VolumeIo,
    readonly boot: BootSector,
  ) {
    this.recordSize = boot.mftRecordSize;
  }

  get name(): string {
    return this.io.dev.name;
  }

  get recordCount(): number {
    return Math.floor(this.stream.size / this.recordSize);
  }

  get dataStream(): AttrStream {
    return this.stream;
  }

  static async open(io: VolumeIo, boot: BootSector, warn?: (m: string) => void): Promise<Mft> {
    const mft = new Mft(io, boot);
    const cs = BigInt(boot.clusterSize);
    let rec0: MftRecord;
    try {
      rec0 = await mft.rawRecordAt(BigInt(boot.mftLcn) * cs, 0);
    } catch (e) {
      const mirr = BigInt(boot.mftMirrLcn) * cs;
      rec0 = await mft.rawRecordAt(mirr, 0).catch(() => { throw e; });
      warn?.(`${io.dev.name}: $MFT record 0 is damaged (${(e as Error).message}); using $MFTMirr`);
    }
    const own = new NtfsFile(io.dev.name, rec0, [rec0]);
    const data = own.find(AT.DATA);
    if (!data || data.resident) throw corrupt(io.dev.name, 'MFT record 0 ($MFT)', 'no non-resident $DATA attribute', rec0.at);
    mft.stream = new AttrStream(io, data, '$MFT $DATA');
    if (own.has(AT.ATTRIBUTE_LIST)) {
      // A fragmented $MFT: its other extents live in extension records reachable through
      // the runs known so far.
      const full = await mft.withExtensions(rec0);
      const whole = full.find(AT.DATA);
      if (!whole || whole.resident) throw corrupt(io.dev.name, 'MFT record 0 ($MFT)', 'no $DATA across its attribute list', rec0.at);
      mft.stream = new AttrStream(io, whole, '$MFT $DATA');
      mft.chunks.clear();
    }
    if (mft.stream.size < 16 * mft.recordSize) throw corrupt(io.dev.name, '$MFT', `$DATA of ${mft.stream.size} bytes holds fewer than 16 records`, rec0.at);
    return mft;
  }

  private async rawRecordAt(at: bigint, num: number): Promise<MftRecord> {
    const raw = await this.io.dev.read(at, this.recordSize);
    return parseRecord(raw, num, { device: this.io.dev.name, totalClusters: this.io.totalClusters, at });
  }

  private chunk(i: number): Promise<Buffer> {
    return this.chunks.load(i, 1, () => this.stream.read(i * CHUNK, CHUNK));
  }

  /** The raw (still protected) bytes of record `num`. */
  async rawBytes(num: number): Promise<Buffer> {
    if (!Number.isSafeInteger(num) || num < 0 || num >= this.recordCount) {
      throw new FsError('ENOENT', `${this.name}: MFT record ${num} is outside $MFT (${this.recordCount} records)`);
    }
    const pos = num * this.recordSize;
    if (this.recordSize <= CHUNK && CHUNK % this.recordSize === 0) {
      const c = await this.chunk(Math.floor(pos / CHUNK));
      const o = pos % CHUNK;
      if (o + this.recordSize > c.length) throw corrupt(this.name, `MFT record ${num}`, 'cut off at the end of $MFT');
      return Buffer.from(c.subarray(o, o + this.recordSize));
    }
    return this.stream.read(pos, this.recordSize);
  }

  async record(num: number): Promise<MftRecord> {
    const raw = await this.rawBytes(num);
    return parseRecord(raw, num, { device: this.name, totalClusters: this.io.totalClusters, at: this.stream.deviceOffset(num * this.recordSize) ?? 0n });
  }

  /** The in-use base record `num` with its extension records. */
  async file(num: number): Promise<NtfsFile> {
    const hit = this.files.get(num);
    if (hit) return hit;
    const base = await this.record(num);
    if ((base.flags & RECORD_FLAG.IN_USE) === 0) throw new FsError('ENOENT', `${this.name}: MFT record ${num} is not in use`);
    if (base.base !== 0) throw new FsError('ENOENT', `${this.name}: MFT record ${num} is an extension of record ${base.base}, not a file`);
    const f = base.attrs.some((a) => a.type === AT.ATTRIBUTE_LIST) ? await this.withExtensions(base) : new NtfsFile(this.name, base, [base]);
    this.files.set(num, f);
    return f;
  }

  /** Re-read $MFT's own $DATA from record 0 after it grew. */
  async refresh(): Promise<void> {
    this.files.delete(0);
    this.chunks.clear();
    const own = await this.file(0);
    const data = own.find(AT.DATA);
    if (!data || data.resident) throw corrupt(this.name, 'MFT record 0 ($MFT)', 'no non-resident $DATA attribute', own.base.at);
    this.stream = new AttrStream(this.io, data, '$MFT $DATA');
    this.chunks.clear();
  }

  /** Forget cached copies of a record (after a write). */
  forget(num: number): void {
    this.files.delete(num);
  }

  forgetChunks(): void {
    this.chunks.clear();
  }

  private async withExtensions(base: MftRecord): Promise<NtfsFile> {
    const what = `MFT record ${base.number} $ATTRIBUTE_LIST`;
    const one = new NtfsFile(this.name, base, [base]);
    const al = one.find(AT.ATTRIBUTE_LIST)!;
    if (al.dataSize > MAX_ATTR_LIST) throw corrupt(this.name, what, `${al.dataSize} bytes is too large`, base.at);
    const list = await new AttrStream(this.io, al, what).read(0, al.dataSize);
    const refs = new Set<number>();
    for (let pos = 0; pos + 26 <= list.length;) {
      const len = list.readUInt16LE(pos + 4);
      if (len < 26 || (len & 7) !== 0 || pos + len > list.length) throw corrupt(this.name, what, `bad entry length ${len} at list offset ${pos}`, base.at);
      const ref = Number(list.readBigUInt64LE(pos + 16) & 0xffffffffffffn);
      if (ref !== base.number) refs.add(ref);
      if (refs.size > MAX_EXTENSIONS) throw corrupt(this.name, what, `names more than ${MAX_EXTENSIONS} extension records`, base.at);
      pos += len;
    }
    const records = [base];
    for (const r of refs) {
      const ext = await this.record(r);
      if ((ext.flags & RECORD_FLAG.IN_USE) === 0 || ext.base !== base.number) {
        throw corrupt(this.name, what, `names record ${r}, which is ${ext.base === base.number ? 'not in use' : `not an extension of it (base ${ext.base})`}`, ext.at);
      }
      if (ext.attrs.some((a) => a.type === AT.ATTRIBUTE_LIST)) throw corrupt(this.name, what, `extension record ${r} holds an attribute list of its own (a loop)`, ext.at);
      records.push(ext);
    }
    return new NtfsFile(this.name, base, records);
  }
}
