/**
 * A qcow2 image (v2 or v3) as a BlockDevice: reads through L1/L2 tables, zero and compressed
 * clusters, subclusters and the backing chain; writes (when opened writable) through
 * `Qcow2Writer`.
 */
import { BaseDevice, type BlockDevice, type Extent } from '../block-device.js';
import { minBig } from '../bigint.js';
import { DiskError } from '../errors.js';
import type { OpenOptions } from '../format.js';
import { RawFile } from '../raw.js';
import { CompressedReader } from './compressed.js';
import { INCOMPAT, parseHeader, readHead, type Qcow2Header } from './header.js';
import { COMPRESSED, DATA, Mapper, UNALLOCATED, ZERO, type Segment } from './mapper.js';
import { L2Tables } from './tables.js';
import { Qcow2Writer } from './writer.js';
import { allSettled } from '../settle.js';

export interface Qcow2OpenOptions extends OpenOptions {
  /** An already open backing device (createOverlay), used instead of `openBacking`. */
  backing?: BlockDevice;
}

export class Qcow2Device extends BaseDevice {
  readonly size: bigint;
  private readonly mapper: Mapper;
  private readonly compressed: CompressedReader;
  private readonly writer: Qcow2Writer | undefined;

  private constructor(
    readonly name: string,
    private readonly file: BlockDevice,
    readonly header: Qcow2Header,
    tables: L2Tables,
    /** The backing image, owned (closed) by this device. */
    readonly backing: BlockDevice | undefined,
    writable: boolean,
  ) {
    super();
    this.size = header.size;
    this.mapper = new Mapper(name, header, tables, () => file.size);
    this.compressed = new CompressedReader(file, name, header.clusterBits);
    this.writer = writable ? new Qcow2Writer(file as RawFile, name, header, tables, (o, n) => this._read(o, n)) : undefined;
  }

  /** Open the qcow2 image in `file`; the caller closes `file` if this throws. */
  static async open(file: BlockDevice, path: string, opts: Qcow2OpenOptions): Promise<Qcow2Device> {
    const header = parseHeader(await readHead(file), file.size, path);
    const writable = opts.writable ?? false;
    if (writable) checkWritable(file, header, path);
    const tables = await L2Tables.load(file, path, header);
    let backing = opts.backing;
    if (backing === undefined && header.backingName !== undefined) {
      if (!opts.openBacking) throw new DiskError(path, `the image has a backing file "${header.backingName}" but no way to open it was given`);
      backing = await opts.openBacking(header.backingName, path, header.backingFormat);
    }
    const dev = new Qcow2Device(path, file, header, tables, backing, writable);
    if (writable) await dev.writer!.init().catch(async (e: unknown) => {
      await backing?.close();
      throw e;
    });
    return dev;
  }

  override canWrite(): boolean {
    return this.writer !== undefined;
  }

  protected async _read(offset: bigint, length: number): Promise<Buffer> {
    const out = Buffer.allocUnsafe(length);
    await this._readInto(offset, out);
    return out;
  }

  /** Each run of data clusters is read from the file straight into its place in `out`. */
  protected override async _readInto(offset: bigint, out: Buffer): Promise<void> {
    const segs = await this.mapper.map(offset, out.length);
    // New clusters the mapping points to may still be landing.
    if (this.writer?.busy) await this.writer.landed();
    const jobs: Promise<void>[] = [];
    const compressed: Segment[] = [];
    for (const s of segs) {
      const into = out.subarray(s.start, s.start + s.length);
      if (s.kind === DATA) jobs.push(this.file.readInto(BigInt(s.host), into));
      else if (s.kind === ZERO) into.fill(0);
      else if (s.kind === UNALLOCATED) jobs.push(this.readBelow(into, offset + BigInt(s.start)));
      else compressed.push(s);
    }
    if (compressed.length > 0) {
      jobs.push(
        this.compressed.clusters(compressed.map((s) => s.desc)).then((clusters) => {
          clusters.forEach((c, i) => {
            const s = compressed[i]!;
            c.copy(out, s.start, s.host, s.host + s.length);
          });
        }),
      );
    }
    await allSettled(jobs);
  }

  /** Unallocated here: the backing image's bytes, and zeros past its end. */
  private async readBelow(into: Buffer, guest: bigint): Promise<void> {
    const fromBacking = this.backing ? this.backingLength(guest, into.length) : 0;
    if (fromBacking > 0) await this.backing!.readInto(guest, into.subarray(0, fromBacking));
    into.fill(0, fromBacking);
  }

  /** How many of `length` bytes at `guest` the backing image holds. */
  private backingLength(guest: bigint, length: number): number {
    const size = this.backing?.size ?? 0n;
    return guest >= size ? 0 : Number(minBig(size - guest, BigInt(length)));
  }

  protected override _write(offset: bigint, data: Uint8Array): Promise<void> {
    return this.writer!.write(offset, data);
  }

  override async extents(offset: bigint, length: bigint): Promise<Extent[]> {
    this.checkRange(offset, length, 'extents');
    const out: Extent[] = [];
    const add = (e: Extent) => {
      const last = out[out.length - 1];
      if (last && last.hole === e.hole && last.zero === e.zero && last.offset + last.length === e.offset) last.length += e.length;
      else if (e.length > 0n) out.push({ ...e });
    };
    // Map one L2 table's reach at a time: lengths stay numbers, unallocated tables cost nothing.
    const reach = BigInt(this.header.clusterSize) * BigInt(this.header.clusterSize / (this.header.extendedL2 ? 16 : 8));
    const end = offset + length;
    for (let pos = offset; pos < end; ) {
      const n = minBig(reach - (pos % reach), end - pos);
      for (const s of await this.mapper.map(pos, Number(n))) {
        const at = pos + BigInt(s.start);
        const len = BigInt(s.length);
        if (s.kind === DATA || s.kind === COMPRESSED) add({ offset: at, length: len, hole: false, zero: false });
        else if (s.kind === ZERO) add({ offset: at, length: len, hole: false, zero: true });
        else {
          const below = this.backing ? BigInt(this.backingLength(at, s.length)) : 0n;
          if (below > 0n) for (const e of await this.backing!.extents(at, below)) add(e);
          add({ offset: at + below, length: len - below, hole: true, zero: true });
        }
      }
      pos += n;
    }
    return out;
  }

  override async flush(): Promise<void> {
    await this.writer?.flush();
  }

  override async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      await this.file.close();
      await this.backing?.close();
    }
  }
}

function checkWritable(file: BlockDevice, h: Qcow2Header, path: string): void {
  const refuse = (why: string): never => {
    throw new DiskError(path, `cannot open for writing: ${why}`, undefined, 'EROFS');
  };
  if (!(file instanceof RawFile) || !file.canWrite()) refuse('the image file is not a writable host file');
  if (h.incompatible & INCOMPAT.corrupt) refuse('the image is marked corrupt');
  if (h.incompatible & INCOMPAT.dirty) refuse('the image is dirty (lazy refcounts); repair it with qemu-img check -r all');
  if (h.nbSnapshots !== 0) refuse(`the image has ${h.nbSnapshots} internal snapshots`);
}
