/**
 * The device every fuzz case reads: a clean image held in memory with the case's damage laid
 * over it (patches, a truncated end), so a 128 MiB image costs no copy per case. It records
 * the ranges read (the clean run's reads say where the metadata is) and counts every write
 * or trim it is asked for: the read path must never ask, so a write is a finding, not an error.
 */
import { BaseDevice } from '../../disk/block-device.js';

export interface Patch {
  at: number;
  bytes: Buffer;
}

export class ImageDevice extends BaseDevice {
  readonly size: bigint;
  /** Write or trim calls received: any is a violation of read-only. */
  writes = 0;
  /** Every read as [offset, length], when recording. */
  reads?: [number, number][];

  constructor(
    readonly name: string,
    private readonly base: Buffer,
    private readonly patches: Patch[] = [],
    length = base.length,
  ) {
    super();
    this.size = BigInt(Math.min(length, base.length));
  }

  protected async _read(offset: bigint, length: number): Promise<Buffer> {
    const start = Number(offset);
    this.reads?.push([start, length]);
    const out = Buffer.from(this.base.subarray(start, start + length));
    for (const p of this.patches) {
      const from = Math.max(p.at, start);
      const to = Math.min(p.at + p.bytes.length, start + length);
      if (from < to) p.bytes.copy(out, from - start, from - p.at, to - p.at);
    }
    return out;
  }

  override write(): Promise<void> {
    this.writes++;
    return Promise.reject(new Error(`${this.name}: write to a read-only image`));
  }

  override trim(): Promise<void> {
    this.writes++;
    return Promise.reject(new Error(`${this.name}: trim of a read-only image`));
  }

  /** The damaged bytes as one buffer (for parsers that take a buffer, not a device). */
  bytes(): Buffer {
    const out = Buffer.from(this.base.subarray(0, Number(this.size)));
    for (const p of this.patches) if (p.at < out.length) p.bytes.copy(out, p.at, 0, Math.min(p.bytes.length, out.length - p.at));
    return out;
  }
}
