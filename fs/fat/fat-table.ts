/**
 * The File Allocation Table, loaded in chunks on demand and written back to every mirrored
 * copy. Chunks are a multiple of 3 bytes so a FAT12 entry pair never straddles two chunks.
 * Also keeps the free-cluster count and the next-free hint that FSInfo records.
 */
import type { BlockDevice } from '../../disk/block-device.js';
import { corrupt } from '../errors.js';
import type { Geometry } from './bpb.js';

const CHUNK = 3 * 16384;

export class FatTable {
  private readonly chunks = new Map<number, Buffer>();
  private readonly dirty = new Set<number>();
  private readonly fatBytes: number;
  /** Free clusters, counted on first need. */
  private free: number | undefined;
  /** Where the next allocation search starts. */
  nextFree = 2;

  constructor(
    private readonly dev: BlockDevice,
    private readonly g: Geometry,
  ) {
    this.fatBytes = g.fatSectors * g.bytesPerSector;
  }

  /** Highest valid cluster number. */
  get clusterMax(): number {
    return this.g.clusterCount + 1;
  }

  /** Smallest value that ends a chain. */
  get eoc(): number {
    return this.g.type === 12 ? 0xff8 : this.g.type === 16 ? 0xfff8 : 0x0ffffff8;
  }

  /** The value we write to end a chain. */
  get eocMark(): number {
    return this.g.type === 12 ? 0xfff : this.g.type === 16 ? 0xffff : 0x0fffffff;
  }

  /** The value that marks a bad cluster. */
  get badMark(): number {
    return this.eoc - 1;
  }

  private byteOf(n: number): number {
    return this.g.type === 12 ? n + (n >> 1) : n * (this.g.type / 8);
  }

  private async chunkOf(n: number): Promise<{ buf: Buffer; at: number; idx: number }> {
    const byte = this.byteOf(n);
    const idx = Math.floor(byte / CHUNK);
    let buf = this.chunks.get(idx);
    if (!buf) {
      this.checkIndex(n);
      const start = idx * CHUNK;
      const len = Math.min(CHUNK, this.fatBytes - start);
      buf = await this.dev.read(BigInt(this.g.fatOffset + this.g.readFat * this.fatBytes + start), len);
      this.chunks.set(idx, buf);
    }
    return { buf, at: byte - idx * CHUNK, idx };
  }

  private checkIndex(n: number): void {
    if (!Number.isInteger(n) || n < 2 || n > this.g.clusterCount + 1) {
      throw corrupt(this.dev.name, 'FAT', `cluster ${n} is outside the data area (2..${this.g.clusterCount + 1})`);
    }
  }

  /** The raw FAT entry of cluster n (2 ≤ n ≤ clusterCount+1). */
  async get(n: number): Promise<number> {
    this.checkIndex(n);
    const { buf, at } = await this.chunkOf(n);
    return this.entryIn(buf, at, n);
  }

  /**
   * The entry of cluster n if its chunk is loaded (no checks: for scans over valid numbers).
   * Scans await only a chunk load, not every cluster: statfs over a 64 MiB FAT32 (130k
   * clusters) took 45 ms with an await each.
   */
  private cached(n: number): number | undefined {
    const byte = this.byteOf(n);
    const idx = Math.floor(byte / CHUNK);
    const buf = this.chunks.get(idx);
    return buf && this.entryIn(buf, byte - idx * CHUNK, n);
  }

  private entryIn(buf: Buffer, at: number, n: number): number {
    switch (this.g.type) {
      case 12: {
        const w = buf.readUInt16LE(at);
        return n & 1 ? w >> 4 : w & 0xfff;
      }
      case 16:
        return buf.readUInt16LE(at);
      case 32:
        return buf.readUInt32LE(at) & 0x0fffffff;
    }
  }

  async set(n: number, value: number): Promise<void> {
    this.checkIndex(n);
    const { buf, at, idx } = await this.chunkOf(n);
    const old = this.entryIn(buf, at, n);
    switch (this.g.type) {
      case 12: {
        const w = buf.readUInt16LE(at);
        buf.writeUInt16LE(n & 1 ? (w & 0x000f) | (value << 4) : (w & 0xf000) | value, at);
        break;
      }
      case 16:
        buf.writeUInt16LE(value, at);
        break;
      case 32:
        // The top four bits are reserved and kept as they are.
        buf.writeUInt32LE(((buf.readUInt32LE(at) & 0xf0000000) | value) >>> 0, at);
        break;
    }
    this.dirty.add(idx);
    if (this.free !== undefined) {
      if (old === 0 && value !== 0) this.free--;
      else if (old !== 0 && value === 0) this.free++;
    }
  }

  async freeCount(): Promise<number> {
    if (this.free === undefined) {
      let free = 0;
      for (let n = 2; n <= this.g.clusterCount + 1; n++) if ((this.cached(n) ?? (await this.get(n))) === 0) free++;
      this.free = free;
    }
    return this.free;
  }

  /**
   * Up to `count` free clusters in one lap of the FAT from `near` (or the hint), in the order
   * found, so a file grows forward in as few runs as possible. They stay free until set.
   */
  async findFree(count: number, near?: number): Promise<number[]> {
    const last = this.g.clusterCount + 1;
    const start = near !== undefined && near >= 2 && near <= last ? near : Math.min(Math.max(this.nextFree, 2), last);
    const out: number[] = [];
    for (let i = 0, n = start; i < this.g.clusterCount && out.length < count; i++, n = n === last ? 2 : n + 1) {
      if ((this.cached(n) ?? (await this.get(n))) === 0) out.push(n);
    }
    const end = out[out.length - 1];
    if (end !== undefined) this.nextFree = end === last ? 2 : end + 1;
    return out;
  }

  /** Write changed chunks to every FAT the volume keeps in step; true if there were any. */
  async flush(): Promise<boolean> {
    const any = this.dirty.size > 0;
    for (const idx of this.dirty) {
      const buf = this.chunks.get(idx)!;
      for (const f of this.g.writeFats) {
        await this.dev.write(BigInt(this.g.fatOffset + f * this.fatBytes + idx * CHUNK), buf);
      }
    }
    this.dirty.clear();
    return any;
  }
}
