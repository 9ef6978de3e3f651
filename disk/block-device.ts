/**
 * The BlockDevice interface: everything from a file to a logical volume is one of these.
 * Offsets and sizes are BigInt bytes (disks can pass 2^53); a single request's length is a
 * number. Modelled on nbdkit's plugin vtable: data calls plus capability probes.
 */
import { DiskError } from './errors.js';

/** One run of `extents()`: `hole` = not allocated here, `zero` = reads as zeros. */
export interface Extent {
  offset: bigint;
  length: bigint;
  hole: boolean;
  zero: boolean;
}

export interface BlockDevice {
  /** What error messages call this device: an image path, or "path (partition 2)". */
  readonly name: string;
  readonly size: bigint;
  /** Logical sector size the device presents (512 unless the format says otherwise). */
  readonly sectorSize: number;
  /**
   * Read exactly `length` bytes at `offset`; a range past the end is an error. The buffer
   * belongs to the caller: nothing below keeps it or writes to it later.
   */
  read(offset: bigint, length: number): Promise<Buffer>;
  /**
   * Fill all of `buf` from `offset` (same range rules as `read`). Bulk readers (virt-cat, the
   * FUSE read path, the remote readahead's pooled windows) pass a buffer they own and reuse,
   * so the bytes land once, where they are needed, with no fresh allocation. It settles only
   * when every part of the read has: after a failure too, nothing still writes into `buf`.
   */
  readInto(offset: bigint, buf: Buffer): Promise<void>;
  /** Write `data` at `offset`; once this settles `data` is the caller's again (nothing keeps it). */
  write(offset: bigint, data: Uint8Array): Promise<void>;
  flush(): Promise<void>;
  close(): Promise<void>;
  canWrite(): boolean;
  canTrim(): boolean;
  trim(offset: bigint, length: bigint): Promise<void>;
  /** Allocated, hole and zero runs covering [offset, offset+length). */
  extents(offset: bigint, length: bigint): Promise<Extent[]>;
}

/**
 * Base class in the manner of balena's file-disk: the public calls check bounds and
 * capabilities once, subclasses implement the protected `_read`/`_write` on ranges that are
 * already known to be inside the device.
 */
export abstract class BaseDevice implements BlockDevice {
  abstract readonly name: string;
  abstract readonly size: bigint;
  sectorSize = 512;

  protected abstract _read(offset: bigint, length: number): Promise<Buffer>;

  /** Devices that can place bytes straight into the caller's buffer override this. */
  protected _readInto(offset: bigint, buf: Buffer): Promise<void> {
    return this.readCopy(offset, buf);
  }

  /** `_readInto` through `_read` and a copy. */
  protected async readCopy(offset: bigint, buf: Buffer): Promise<void> {
    (await this._read(offset, buf.length)).copy(buf);
  }

  protected _write(_offset: bigint, _data: Uint8Array): Promise<void> {
    return Promise.reject(new DiskError(this.name, 'device is read-only', undefined, 'EROFS'));
  }

  protected _trim(_offset: bigint, _length: bigint): Promise<void> {
    return Promise.resolve();
  }

  canWrite(): boolean {
    return false;
  }

  canTrim(): boolean {
    return false;
  }

  checkRange(offset: bigint, length: bigint, op: string): void {
    const bad = this.rangeError(offset, length, op);
    if (bad) throw bad;
  }

  /** The error for a range outside the device, or undefined: the public calls reject with it. */
  private rangeError(offset: bigint, length: bigint, op: string): DiskError | undefined {
    if (offset >= 0n && length >= 0n && offset + length <= this.size) return undefined;
    return new DiskError(this.name, `${op} of ${length} bytes at ${offset} is outside the device of ${this.size} bytes`, offset);
  }

  private readOnlyError(offset: bigint): DiskError | undefined {
    return this.canWrite() ? undefined : new DiskError(this.name, 'device is read-only', offset, 'EROFS');
  }

  read(offset: bigint, length: number): Promise<Buffer> {
    const bad = this.rangeError(offset, BigInt(length), 'read');
    if (bad) return Promise.reject(bad);
    return length === 0 ? Promise.resolve(Buffer.alloc(0)) : this._read(offset, length);
  }

  readInto(offset: bigint, buf: Buffer): Promise<void> {
    const bad = this.rangeError(offset, BigInt(buf.length), 'read');
    if (bad) return Promise.reject(bad);
    return buf.length === 0 ? Promise.resolve() : this._readInto(offset, buf);
  }

  write(offset: bigint, data: Uint8Array): Promise<void> {
    const bad = this.readOnlyError(offset) ?? this.rangeError(offset, BigInt(data.length), 'write');
    if (bad) return Promise.reject(bad);
    return data.length === 0 ? Promise.resolve() : this._write(offset, data);
  }

  trim(offset: bigint, length: bigint): Promise<void> {
    const bad = this.readOnlyError(offset) ?? this.rangeError(offset, length, 'trim');
    if (bad) return Promise.reject(bad);
    return this.canTrim() ? this._trim(offset, length) : Promise.resolve();
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Default: the whole range is allocated data. Formats that know better override. */
  extents(offset: bigint, length: bigint): Promise<Extent[]> {
    const bad = this.rangeError(offset, length, 'extents');
    if (bad) return Promise.reject(bad);
    return Promise.resolve([{ offset, length, hole: false, zero: false }]);
  }
}
