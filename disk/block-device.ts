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
   * Optional: read `target.length` bytes at `offset` into the caller's buffer, so a caller
   * can reuse its buffers (a fresh multi-MiB buffer costs page faults on first touch and
   * garbage collection later). Offered where it saves work: the HTTP source fills the target
   * as bytes arrive, and the remote stack's filters pass it down. On failure the target's
   * contents are undefined, and parts of the read may still be writing to it.
   */
  readInto?(offset: bigint, target: Buffer): Promise<void>;
  write(offset: bigint, data: Uint8Array): Promise<void>;
  flush(): Promise<void>;
  close(): Promise<void>;
  canWrite(): boolean;
  canTrim(): boolean;
  trim(offset: bigint, length: bigint): Promise<void>;
  /** Allocated, hole and zero runs covering [offset, offset+length). */
  extents(offset: bigint, length: bigint): Promise<Extent[]>;
}

/** Read into `target` through `dev.readInto` where the device offers it, else read and copy. */
export async function readInto(dev: BlockDevice, offset: bigint, target: Buffer): Promise<void> {
  if (dev.readInto) return dev.readInto(offset, target);
  (await dev.read(offset, target.length)).copy(target);
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
    if (offset < 0n || length < 0n || offset + length > this.size) {
      throw new DiskError(this.name, `${op} of ${length} bytes at ${offset} is outside the device of ${this.size} bytes`, offset);
    }
  }

  read(offset: bigint, length: number): Promise<Buffer> {
    try {
      this.checkRange(offset, BigInt(length), 'read');
    } catch (e) {
      return Promise.reject(e);
    }
    if (length === 0) return Promise.resolve(Buffer.alloc(0));
    return this._read(offset, length);
  }

  /** For subclasses that offer `readInto`: the range checked as `read` checks it, then `fill`. */
  protected checkedInto(offset: bigint, target: Buffer, fill: () => Promise<void>): Promise<void> {
    try {
      this.checkRange(offset, BigInt(target.length), 'read');
    } catch (e) {
      return Promise.reject(e);
    }
    return target.length === 0 ? Promise.resolve() : fill();
  }

  write(offset: bigint, data: Uint8Array): Promise<void> {
    if (!this.canWrite()) return Promise.reject(new DiskError(this.name, 'device is read-only', offset, 'EROFS'));
    try {
      this.checkRange(offset, BigInt(data.length), 'write');
    } catch (e) {
      return Promise.reject(e);
    }
    if (data.length === 0) return Promise.resolve();
    return this._write(offset, data);
  }

  trim(offset: bigint, length: bigint): Promise<void> {
    if (!this.canWrite()) return Promise.reject(new DiskError(this.name, 'device is read-only', offset, 'EROFS'));
    try {
      this.checkRange(offset, length, 'trim');
    } catch (e) {
      return Promise.reject(e);
    }
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
    try {
      this.checkRange(offset, length, 'extents');
    } catch (e) {
      return Promise.reject(e);
    }
    return Promise.resolve([{ offset, length, hole: false, zero: false }]);
  }
}
