/**
 * A hosted sparse extent ('KDMV'): monolithicSparse, one file of twoGbMaxExtentSparse, or a
 * streamOptimized image. The grain directory (read whole at open, its size is capped) points
 * to grain tables (cached, a bounded number), whose entries point to grains. An entry of 0 is
 * an unallocated grain (read from the parent disk if there is one, else zeros), 1 a zeroed
 * grain when the header says so. In streamOptimized images each grain is a marker plus zlib data.
 */
import { BaseDevice, type BlockDevice, type Extent } from '../block-device.js';
import { maxBig, minBig } from '../bigint.js';
import { DiskError } from '../errors.js';
import { appendRun } from './extent-runs.js';
import { expectMarker, readGrainDirectory } from './grain-directory.js';
import { inflateGrain } from './inflate-grain.js';
import { Lru } from '../lru.js';
import { GRAIN_MARKER_BYTES, MarkerType, readFooter } from './markers.js';
import { GD_AT_END, parseSparseHeader, SECTOR, type SparseHeader } from './sparse-header.js';

/** Memory the grain-table cache may use. */
const GT_CACHE_BYTES = 4 << 20;
/** Inflated grains kept, so small sequential reads do not inflate a grain again each time. */
const GRAIN_CACHE_BYTES = 8 << 20;

/**
 * The caches of one disk, shared by all its sparse extents, so a descriptor listing
 * thousands of extents still keeps a bounded number of tables and grains in memory.
 * Keys are "extent number:index".
 */
export class GrainCaches {
  private next = 0;

  constructor(
    readonly tables = new Lru<string, Promise<Uint32Array>>(GT_CACHE_BYTES),
    readonly grains = new Lru<string, Promise<Buffer>>(GRAIN_CACHE_BYTES),
  ) {}

  /** A number for a new extent, to key its entries with. */
  register(): number {
    return this.next++;
  }
}
/** Compressed grains closer than this in the file are fetched with one read. */
const MAX_SPAN_BYTES = 16 << 20;

/** A parent disk, and where this extent starts on it (extents of a split disk start apart). */
export interface Backing {
  dev: BlockDevice;
  start: bigint;
}

/** One grain's share of a read request. */
interface Piece {
  grain: number;
  /** The grain table entry: the grain's sector in the file (0 unallocated, 1 maybe zeroed). */
  gte: number;
  /** Offset inside the grain, and length. */
  inGrain: number;
  length: number;
  /** Where the bytes go in the request's buffer. */
  outPos: number;
}

export class SparseExtent extends BaseDevice {
  readonly size: bigint;
  private readonly grainBytes: number;
  private readonly fileSize: number;
  /** This extent's number in `caches`. */
  private readonly id: number;

  private constructor(
    readonly name: string,
    private readonly file: BlockDevice,
    private readonly header: SparseHeader,
    private readonly gd: Uint32Array,
    sectors: bigint,
    /** The header came from a streamOptimized footer: tables follow their markers. */
    private readonly streamMarkers: boolean,
    private readonly backing: Backing | null,
    private readonly caches: GrainCaches,
  ) {
    super();
    this.size = sectors * BigInt(SECTOR);
    this.grainBytes = header.grainSectors * SECTOR;
    this.fileSize = Number(file.size);
    this.id = caches.register();
  }

  /**
   * Open the sparse extent in `file`. `sectors` is the size a descriptor gives it; without
   * one (a monolithic file opened directly) the header's capacity is the size.
   */
  static async open(file: BlockDevice, name: string, opts: { sectors?: bigint; backing?: Backing | null; caches?: GrainCaches } = {}): Promise<SparseExtent> {
    const { sectors, backing = null, caches = new GrainCaches() } = opts;
    if (file.size < BigInt(SECTOR)) throw new DiskError(name, `file of ${file.size} bytes is too small for a VMDK sparse header`);
    let header = parseSparseHeader(await file.read(0n, SECTOR), name, 0);
    const fromFooter = header.gdOffset === GD_AT_END;
    if (fromFooter) {
      header = await readFooter(file, name);
      if (header.gdOffset === GD_AT_END) throw new DiskError(name, 'streamOptimized footer does not give the grain directory offset either', file.size - BigInt(2 * SECTOR));
    }
    if (sectors !== undefined && sectors > header.capacity) {
      throw new DiskError(name, `sparse extent holds ${header.capacity} sectors but the descriptor gives it ${sectors}`);
    }
    const gd = await readGrainDirectory(file, name, header, fromFooter);
    return new SparseExtent(name, file, header, gd, sectors ?? header.capacity, fromFooter, backing, caches);
  }

  /** The same extent reading its unallocated grains from `backing`. */
  withBacking(backing: Backing): SparseExtent {
    return new SparseExtent(this.name, this.file, this.header, this.gd, this.size / BigInt(SECTOR), this.streamMarkers, backing, this.caches);
  }

  /** The embedded descriptor's bytes (monolithicSparse, streamOptimized), or null. */
  async embeddedDescriptor(maxBytes: number): Promise<Buffer | null> {
    const { descriptorOffset, descriptorSize } = this.header;
    if (descriptorOffset === 0n || descriptorSize === 0n) return null;
    const at = descriptorOffset * BigInt(SECTOR);
    const bytes = descriptorSize * BigInt(SECTOR);
    if (bytes > BigInt(maxBytes)) throw new DiskError(this.name, `embedded descriptor of ${bytes} bytes is larger than ${maxBytes}`, at);
    if (at + bytes > this.file.size) throw new DiskError(this.name, `embedded descriptor (${bytes} bytes) is outside the file of ${this.file.size} bytes`, at);
    return this.file.read(at, Number(bytes));
  }

  override async close(): Promise<void> {
    await this.file.close();
    await this.backing?.dev.close();
  }

  protected async _read(offset: bigint, length: number): Promise<Buffer> {
    const at = Number(offset);
    const out = Buffer.alloc(length);
    const all = await this.pieces(at, length);
    const pieces = all.filter((p) => p.gte !== 0 && !(p.gte === 1 && this.header.zeroGte));
    if (this.backing) await this.readBacking(this.backing, at, all.filter((p) => p.gte === 0), out);
    if (pieces.length > 0) await (this.header.compressed ? this.readCompressed(pieces, out) : this.readPlain(pieces, out));
    return out;
  }

  /** Split [offset, offset+length) by grain, with each grain's table entry. */
  private async pieces(offset: number, length: number): Promise<Piece[]> {
    const gb = this.grainBytes;
    const pieces: Piece[] = [];
    for (let pos = 0; pos < length; ) {
      const at = offset + pos;
      const grain = Math.floor(at / gb);
      const inGrain = at - grain * gb;
      const n = Math.min(gb - inGrain, length - pos);
      pieces.push({ grain, gte: 0, inGrain, length: n, outPos: pos });
      pos += n;
    }
    // Each distinct grain table is loaded once (and cached); fill the entries in afterwards.
    await Promise.all(
      pieces.map(async (p) => {
        p.gte = await this.entry(p.grain);
      }),
    );
    return pieces;
  }

  private async entry(grain: number): Promise<number> {
    const g = this.header.gtesPerGt;
    const index = Math.floor(grain / g);
    const table = await this.table(index);
    return table ? table[grain - index * g]! : 0;
  }

  /** Grain table `index` (cached), or null when the directory says it is unallocated. */
  private async table(index: number): Promise<Uint32Array | null> {
    const sector = this.gd[index] ?? 0;
    return sector === 0 ? null : this.caches.tables.load(`${this.id}:${index}`, this.header.gtesPerGt * 4, () => this.loadTable(index, sector));
  }

  private async loadTable(index: number, sector: number): Promise<Uint32Array> {
    const bytes = this.header.gtesPerGt * 4;
    const at = sector * SECTOR;
    if (at + bytes > this.fileSize) {
      throw new DiskError(this.name, `grain table ${index} at sector ${sector} (${bytes} bytes) is outside the file of ${this.fileSize} bytes`, at);
    }
    if (this.streamMarkers) await expectMarker(this.file, this.name, BigInt(sector), MarkerType.GrainTable, `grain table ${index}`);
    const buf = await this.file.read(BigInt(at), bytes);
    const table = new Uint32Array(this.header.gtesPerGt);
    for (let i = 0; i < table.length; i++) table[i] = buf.readUInt32LE(i * 4);
    return table;
  }

  private outsideFile(p: Piece, at: number, what: string): DiskError {
    return new DiskError(this.name, `grain table entry of grain ${p.grain} points to sector ${p.gte}: ${what} is outside the file of ${this.fileSize} bytes`, at);
  }

  /** Unallocated grains from the parent; past the parent's end the disk reads zeros. */
  private async readBacking(backing: Backing, at: number, pieces: Piece[], out: Buffer): Promise<void> {
    const runs: { outPos: number; length: number }[] = [];
    for (const p of pieces) {
      const last = runs[runs.length - 1];
      if (last && last.outPos + last.length === p.outPos) last.length += p.length;
      else runs.push({ outPos: p.outPos, length: p.length });
    }
    await Promise.all(
      runs.map(async (r) => {
        const from = backing.start + BigInt(at + r.outPos);
        const n = Number(minBig(BigInt(r.length), maxBig(0n, backing.dev.size - from)));
        if (n > 0) (await backing.dev.read(from, n)).copy(out, r.outPos);
      }),
    );
  }

  /** Uncompressed grains: grains next to each other in the file are read with one call. */
  private async readPlain(pieces: Piece[], out: Buffer): Promise<void> {
    const runs: { fileAt: number; outPos: number; length: number }[] = [];
    for (const p of pieces) {
      const fileAt = p.gte * SECTOR + p.inGrain;
      if (fileAt + p.length > this.fileSize) throw this.outsideFile(p, fileAt, `its ${p.length} bytes of data`);
      const last = runs[runs.length - 1];
      if (last && last.fileAt + last.length === fileAt && last.outPos + last.length === p.outPos) last.length += p.length;
      else runs.push({ fileAt, outPos: p.outPos, length: p.length });
    }
    await Promise.all(
      runs.map(async (r) => {
        (await this.file.read(BigInt(r.fileAt), r.length)).copy(out, r.outPos);
      }),
    );
  }

  /** Compressed grains: fetch the missing ones in few reads, inflate them in parallel. */
  private async readCompressed(pieces: Piece[], out: Buffer): Promise<void> {
    const key = (p: Piece) => `${this.id}:${p.grain}`;
    const missing = pieces.filter((p) => !this.caches.grains.has(key(p)));
    const fetched = this.fetchGrains(missing);
    await Promise.all(
      pieces.map(async (p) => {
        const load = () => fetched.get(p.grain) ?? this.fetchGrains([p]).get(p.grain)!;
        const grain = await this.caches.grains.load(key(p), this.grainBytes, load);
        grain.copy(out, p.outPos, p.inGrain, p.inGrain + p.length);
      }),
    );
  }

  /** Inflated grains, by grain number. Grains close together in the file share one read. */
  private fetchGrains(pieces: Piece[]): Map<number, Promise<Buffer>> {
    const result = new Map<number, Promise<Buffer>>();
    const sorted = [...pieces].sort((a, b) => a.gte - b.gte);
    // A grain marker plus data rarely exceeds the grain: deflate's stored blocks add 5 bytes in 64 KiB.
    const guess = GRAIN_MARKER_BYTES + this.grainBytes + 1024;
    for (let i = 0; i < sorted.length; ) {
      const first = sorted[i]!;
      let j = i + 1;
      while (j < sorted.length) {
        const gap = (sorted[j]!.gte - sorted[j - 1]!.gte) * SECTOR;
        const span = (sorted[j]!.gte - first.gte) * SECTOR + guess;
        if (gap > guess || span > MAX_SPAN_BYTES) break;
        j++;
      }
      const group = sorted.slice(i, j);
      const start = first.gte * SECTOR;
      if (start >= this.fileSize) {
        const err = Promise.reject(this.outsideFile(first, start, 'its grain marker'));
        for (const p of group) result.set(p.grain, err);
      } else {
        const end = Math.min(this.fileSize, group[group.length - 1]!.gte * SECTOR + guess);
        const span = this.file.read(BigInt(start), end - start);
        for (const p of group) result.set(p.grain, span.then((buf) => this.inflateFrom(buf, start, p)));
      }
      i = j;
    }
    return result;
  }

  private async inflateFrom(span: Buffer, spanAt: number, p: Piece): Promise<Buffer> {
    const at = p.gte * SECTOR;
    const pos = at - spanAt;
    if (at + GRAIN_MARKER_BYTES > this.fileSize) throw this.outsideFile(p, at, 'its grain marker');
    const lba = span.readBigUInt64LE(pos);
    const size = span.readUInt32LE(pos + 8);
    const expected = BigInt(p.grain) * BigInt(this.header.grainSectors);
    if (lba !== expected) {
      throw new DiskError(this.name, `grain marker of grain ${p.grain} names sector ${lba}, expected ${expected}`, at);
    }
    // zlib never needs much more than the data itself; anything larger is damage.
    const maxSize = this.grainBytes + (this.grainBytes >> 4) + 1024;
    if (size === 0 || size > maxSize) throw new DiskError(this.name, `grain marker of grain ${p.grain} gives a compressed size of ${size} bytes (1 to ${maxSize})`, at);
    const dataAt = at + GRAIN_MARKER_BYTES;
    if (dataAt + size > this.fileSize) throw this.outsideFile(p, at, `its ${size} bytes of compressed data`);
    const data = pos + GRAIN_MARKER_BYTES + size <= span.length ? span.subarray(pos + GRAIN_MARKER_BYTES, pos + GRAIN_MARKER_BYTES + size) : await this.file.read(BigInt(dataAt), size);
    return inflateGrain(data, this.grainBytes, this.name, at);
  }

  /**
   * Unallocated grains are holes (reading as zeros unless a parent fills them), zeroed grains
   * are zero but not holes.
   */
  override async extents(offset: bigint, length: bigint): Promise<Extent[]> {
    this.checkRange(offset, length, 'extents');
    const runs: Extent[] = [];
    const end = offset + length;
    const gb = BigInt(this.grainBytes);
    const g = this.header.gtesPerGt;
    const lastGrain = Number((end - 1n) / gb);
    for (let grain = Number(offset / gb); grain <= lastGrain; ) {
      const index = Math.floor(grain / g);
      const stop = Math.min((index + 1) * g - 1, lastGrain);
      // An unallocated table is one hole; otherwise walk its entries.
      const table = await this.table(index);
      for (; grain <= stop; grain = table ? grain + 1 : stop + 1) {
        const gte = table ? table[grain - index * g]! : 0;
        const from = maxBig(offset, BigInt(grain) * gb);
        const to = minBig(end, BigInt(table ? grain + 1 : stop + 1) * gb);
        const zeroed = gte === 1 && this.header.zeroGte;
        appendRun(runs, from, to - from, gte === 0, (gte === 0 && !this.backing) || zeroed);
      }
    }
    return runs;
  }
}
