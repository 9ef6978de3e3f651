/**
 * A logical volume as a BlockDevice: its segments laid end to end. A linear segment is one
 * run of a PV; a striped one maps stripe-sized chunks round-robin over its areas, as
 * dm-stripe does (chunk c goes to area c mod N, at row c div N).
 */
import { BaseDevice, type BlockDevice } from '../disk/block-device.js';
import { runAt } from '../disk/run-search.js';
import { allSettled } from '../disk/settle.js';

export interface LvArea {
  device: BlockDevice;
  /** Byte offset of the area's first extent on `device`. */
  offset: bigint;
}

export interface LvSegment {
  /** Byte offset of the segment in the LV, and its length. */
  start: bigint;
  length: bigint;
  /** Bytes per chunk; unused for a single area. */
  stripeSize: bigint;
  areas: LvArea[];
}

/** One contiguous piece of a request: where it lands below, and where it goes in the buffer. */
interface Piece {
  device: BlockDevice;
  at: bigint;
  length: number;
  pos: number;
}

export class LogicalVolumeDevice extends BaseDevice {
  readonly size: bigint;

  constructor(readonly name: string, private readonly segments: LvSegment[]) {
    super();
    const last = segments[segments.length - 1];
    this.size = last ? last.start + last.length : 0n;
    // As device-mapper does: the LV's logical sector is the largest of its PVs'.
    this.sectorSize = Math.max(512, ...segments.flatMap((s) => s.areas.map((a) => a.device.sectorSize)));
  }

  override canWrite(): boolean {
    return this.segments.every((s) => s.areas.every((a) => a.device.canWrite()));
  }

  protected async _read(offset: bigint, length: number): Promise<Buffer> {
    const pieces = this.pieces(offset, length);
    if (pieces.length === 1) return pieces[0]!.device.read(pieces[0]!.at, length);
    const out = Buffer.allocUnsafe(length);
    await this._readInto(offset, out);
    return out;
  }

  protected override async _readInto(offset: bigint, out: Buffer): Promise<void> {
    await allSettled(this.pieces(offset, out.length).map((p) => p.device.readInto(p.at, out.subarray(p.pos, p.pos + p.length))));
  }

  protected override async _write(offset: bigint, data: Uint8Array): Promise<void> {
    await Promise.all(this.pieces(offset, data.length).map((p) => p.device.write(p.at, data.subarray(p.pos, p.pos + p.length))));
  }

  override async flush(): Promise<void> {
    const devices = new Set(this.segments.flatMap((s) => s.areas.map((a) => a.device)));
    for (const d of devices) await d.flush();
  }

  private pieces(offset: bigint, length: number): Piece[] {
    const pieces: Piece[] = [];
    // Binary search: a long LV can have many segments.
    let i = runAt(this.segments.length, (k) => this.segments[k]!.start, offset);
    let pos = 0;
    while (pos < length) {
      const seg = this.segments[i]!;
      const here = offset + BigInt(pos) - seg.start;
      if (here >= seg.length) {
        i++;
        continue;
      }
      let device: BlockDevice;
      let at: bigint;
      let run: bigint;
      if (seg.areas.length === 1) {
        device = seg.areas[0]!.device;
        at = seg.areas[0]!.offset + here;
        run = seg.length - here;
      } else {
        const chunk = here / seg.stripeSize;
        const within = here % seg.stripeSize;
        const n = BigInt(seg.areas.length);
        const area = seg.areas[Number(chunk % n)]!;
        device = area.device;
        at = area.offset + (chunk / n) * seg.stripeSize + within;
        run = seg.stripeSize - within;
        if (run > seg.length - here) run = seg.length - here;
      }
      const take = run < BigInt(length - pos) ? Number(run) : length - pos;
      pieces.push({ device, at, length: take, pos });
      pos += take;
    }
    return pieces;
  }
}
