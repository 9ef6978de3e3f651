/** A plain file (or block device node) as a BlockDevice, with positional I/O. */
import * as fs from 'node:fs';
import type { BigIntStats } from 'node:fs';
import { promisify } from 'node:util';
import { BaseDevice } from './block-device.js';
import { toSafeNumber } from './bigint.js';
import { DiskError } from './errors.js';

// Node's read/write silently ignore BigInt positions (they use the current file position
// instead), so host-file positions are always checked numbers. The descriptor API, not
// fs/promises' FileHandle: loading fs/promises (and the stream modules it pulls in) was a few
// milliseconds of every command's start.
const open = promisify(fs.open);
const stat = promisify(fs.stat);
const fstat = promisify(fs.fstat);
const read = promisify(fs.read);
const write = promisify(fs.write);
const fdatasync = promisify(fs.fdatasync);
const ftruncate = promisify(fs.ftruncate);
const close = promisify(fs.close);

/**
 * Reads up to this size are synchronous preads. From the page cache one costs ~5 µs, against
 * ~40 µs of CPU (and a thread-pool round trip of wall time) through FileHandle.read, and
 * inspection and metadata walks are thousands of small reads; so are FUSE's reads (128 KiB at
 * most), where a pread straight into libfuse's buffer beat 1 MiB thread-pool reads plus a copy
 * by 20–30% (bench/mount.ts). Larger reads stay asynchronous, so copies keep several in flight
 * and the event loop is never held for long.
 */
const SYNC_READ_MAX = 128 * 1024;

export interface RawFileOptions {
  /**
   * Write-behind: once this many bytes were written since the last sync, start a datasync in
   * the background, so the disk writes while the copy goes on and `flush` finds little left
   * (Node has no sync_file_range). For bulk copies (virt-v2v targets); off by default.
   */
  writeBehind?: number;
}

export class RawFile extends BaseDevice {
  private unsynced = 0;
  private syncing: Promise<void> | undefined;
  /** A background datasync's failure: the kernel reports a writeback error once, so `flush` must. */
  private syncError: unknown;

  private constructor(
    readonly name: string,
    private readonly fd: number,
    readonly size: bigint,
    private readonly writable: boolean,
    private readonly opts: RawFileOptions,
  ) {
    super();
  }

  /**
   * Open a regular file or a block device; anything else is refused naming the path. The open
   * is non-blocking (a FIFO would otherwise wait forever for a writer) and the type is checked
   * on the opened descriptor, so the path cannot be swapped between the check and the open.
   * It is checked on the path first too: opening a device can act (a terminal, a tape rewinds).
   */
  static async open(path: string, writable = false, opts: RawFileOptions = {}): Promise<RawFile> {
    const before = await stat(path, { bigint: true }).catch(() => undefined);
    if (before && !before.isFile() && !before.isBlockDevice()) throw notAnImage(path, kindOf(before), before.isDirectory() ? 'EISDIR' : 'EINVAL');
    let fd: number;
    try {
      fd = await open(path, (writable ? fs.constants.O_RDWR : fs.constants.O_RDONLY) | fs.constants.O_NONBLOCK);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'EISDIR') throw notAnImage(path, 'a directory', 'EISDIR');
      throw new DiskError(path, `cannot open: ${err.message}`, undefined, err.code ?? 'EIO');
    }
    const st = await fstat(fd, { bigint: true });
    if (!st.isFile() && !st.isBlockDevice()) {
      await close(fd);
      throw notAnImage(path, kindOf(st), st.isDirectory() ? 'EISDIR' : 'EINVAL');
    }
    let size = st.size;
    if (st.isBlockDevice()) {
      // stat() reports 0 for block devices; the end of the device is where a read stops.
      size = await blockDeviceSize(fd);
    }
    return new RawFile(path, fd, size, writable, opts);
  }

  override canWrite(): boolean {
    return this.writable;
  }

  protected async _read(offset: bigint, length: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(length);
    await this._readInto(offset, buf);
    return buf;
  }

  protected override async _readInto(offset: bigint, buf: Buffer): Promise<void> {
    const length = buf.length;
    const pos = toSafeNumber(offset, this.name, 'read offset');
    let done = 0;
    while (done < length) {
      const bytesRead = length <= SYNC_READ_MAX
        ? fs.readSync(this.fd, buf, done, length - done, pos + done)
        : (await read(this.fd, buf, done, length - done, pos + done)).bytesRead;
      if (bytesRead === 0) {
        throw new DiskError(this.name, `file ended early: read ${done} of ${length} bytes`, offset);
      }
      done += bytesRead;
    }
  }

  protected override async _write(offset: bigint, data: Uint8Array): Promise<void> {
    const pos = toSafeNumber(offset, this.name, 'write offset');
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await write(this.fd, data, done, data.length - done, pos + done);
      done += bytesWritten;
    }
    this.unsynced += data.length;
    if (this.opts.writeBehind !== undefined && this.unsynced >= this.opts.writeBehind && !this.syncing) {
      this.unsynced = 0;
      this.syncing = fdatasync(this.fd).then(
        () => void (this.syncing = undefined),
        (e: unknown) => {
          this.syncError ??= e;
          this.syncing = undefined;
        },
      );
    }
  }

  /** Grow or shrink the file: used by formats that allocate at the end (qcow2 overlays). */
  async resize(size: bigint): Promise<void> {
    if (!this.writable) throw new DiskError(this.name, 'device is read-only', undefined, 'EROFS');
    await ftruncate(this.fd, toSafeNumber(size, this.name, 'file size'));
    (this as { size: bigint }).size = size;
  }

  override async flush(): Promise<void> {
    if (!this.writable) return;
    await this.syncing;
    if (this.syncError !== undefined) throw new DiskError(this.name, `writing back to disk failed: ${(this.syncError as Error).message}`, undefined, 'EIO');
    this.unsynced = 0;
    await fdatasync(this.fd);
  }

  override async close(): Promise<void> {
    await this.syncing;
    await close(this.fd);
  }
}

function notAnImage(path: string, kind: string, code: string): DiskError {
  return new DiskError(path, `is ${kind}, not a disk image (only regular files and block devices can be opened)`, undefined, code);
}

function kindOf(st: BigIntStats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isSocket()) return 'a socket';
  return 'a special file';
}

async function blockDeviceSize(fd: number): Promise<bigint> {
  // Binary search for the last readable byte: no ioctl from Node.
  const one = Buffer.alloc(1);
  let lo = 0;
  let hi = 2 ** 52;
  while (lo < hi) {
    const mid = Math.floor((lo + hi + 1) / 2);
    const { bytesRead } = await read(fd, one, 0, 1, mid - 1);
    if (bytesRead === 1) lo = mid;
    else hi = mid - 1;
  }
  return BigInt(lo);
}
