/**
 * The one concurrency model of every driver: each opened filesystem sits behind a fair
 * readers–writer lock (`rw-lock.ts`). Calls that only look run together; calls that change
 * anything (and fsync, close) run alone, so no reader ever sees a directory or extent tree
 * half changed and no two changes share an allocator. FUSE calls many operations at once and
 * relies on this.
 *
 * The lock wraps the driver's object from outside: a driver calling its own methods calls
 * them unlocked, so it can never deadlock on itself. Every driver gets it from
 * `lockedDriver`, applied where the driver is defined.
 */
import type { Attr, DirEntry, DirName, FileExtent, Filesystem, FsDriver, FsOpenOptions, StatFs, Timespec } from './filesystem.js';
import type { BlockDevice } from '../disk/block-device.js';
import { RwLock } from './rw-lock.js';

const inner = new WeakMap<Filesystem, Filesystem>();

class LockedFilesystem implements Filesystem {
  private readonly lock = new RwLock();
  /** When the driver asked to settle again if idle (ext4: commit a batch 5 s old). */
  private idle: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly fs: Filesystem) {}

  get type(): string { return this.fs.type; }
  get rootIno(): number { return this.fs.rootIno; }
  get writable(): boolean { return this.fs.writable; }
  label(): string { return this.fs.label(); }
  uuid(): string { return this.fs.uuid(); }

  // Reads: shared.
  lookup(parent: number, name: string): Promise<Attr> { return this.lock.shared(() => this.fs.lookup(parent, name)); }
  getattr(ino: number): Promise<Attr> { return this.lock.shared(() => this.fs.getattr(ino)); }
  readdir(ino: number): Promise<DirEntry[]> { return this.lock.shared(() => this.fs.readdir(ino)); }
  readdirTypes(ino: number): Promise<DirName[]> { return this.lock.shared(() => this.fs.readdirTypes(ino)); }
  read(ino: number, offset: number, length: number): Promise<Buffer> { return this.lock.shared(() => this.fs.read(ino, offset, length)); }
  readInto(ino: number, offset: number, buf: Buffer): Promise<number> { return this.lock.shared(() => this.fs.readInto(ino, offset, buf)); }
  readlink(ino: number): Promise<string> { return this.lock.shared(() => this.fs.readlink(ino)); }
  listxattr(ino: number): Promise<string[]> { return this.lock.shared(() => this.fs.listxattr(ino)); }
  getxattr(ino: number, name: string): Promise<Buffer> { return this.lock.shared(() => this.fs.getxattr(ino, name)); }
  statfs(): Promise<StatFs> { return this.lock.shared(() => this.fs.statfs()); }
  extents(ino: number): Promise<FileExtent[]> { return this.lock.shared(() => this.fs.extents(ino)); }

  /** A change runs alone; afterwards, while still alone, the driver may settle (commit a batch). */
  private change<T>(fn: () => Promise<T>): Promise<T> {
    return this.lock.exclusive(async () => {
      const r = await fn();
      await this.settle();
      return r;
    });
  }

  /** Under the exclusive lock: the driver settles, and is called again when it asks to be. */
  private async settle(): Promise<void> {
    clearTimeout(this.idle);
    if (this.closed) return;
    const again = await this.fs.afterChange?.();
    if (again === undefined) return;
    // A commit that fails here keeps its batch: the next change, fsync or close retries and reports it.
    this.idle = setTimeout(() => void this.lock.exclusive(() => this.settle()).catch(() => undefined), again).unref();
  }

  // Changes: exclusive.
  create(p: number, n: string, m: number, u: number, g: number): Promise<Attr> { return this.change(() => this.fs.create(p, n, m, u, g)); }
  mknod(p: number, n: string, m: number, r: number, u: number, g: number): Promise<Attr> { return this.change(() => this.fs.mknod(p, n, m, r, u, g)); }
  write(ino: number, offset: number, data: Uint8Array): Promise<number> { return this.change(() => this.fs.write(ino, offset, data)); }
  truncate(ino: number, size: number): Promise<void> { return this.change(() => this.fs.truncate(ino, size)); }
  unlink(p: number, n: string): Promise<void> { return this.change(() => this.fs.unlink(p, n)); }
  mkdir(p: number, n: string, m: number, u: number, g: number): Promise<Attr> { return this.change(() => this.fs.mkdir(p, n, m, u, g)); }
  rmdir(p: number, n: string): Promise<void> { return this.change(() => this.fs.rmdir(p, n)); }
  rename(p: number, n: string, np: number, nn: string): Promise<void> { return this.change(() => this.fs.rename(p, n, np, nn)); }
  link(ino: number, np: number, nn: string): Promise<Attr> { return this.change(() => this.fs.link(ino, np, nn)); }
  symlink(p: number, n: string, t: string, u: number, g: number): Promise<Attr> { return this.change(() => this.fs.symlink(p, n, t, u, g)); }
  chmod(ino: number, mode: number): Promise<void> { return this.change(() => this.fs.chmod(ino, mode)); }
  chown(ino: number, uid: number, gid: number): Promise<void> { return this.change(() => this.fs.chown(ino, uid, gid)); }
  utimens(ino: number, a: Timespec | null, m: Timespec | null): Promise<void> { return this.change(() => this.fs.utimens(ino, a, m)); }
  setxattr(ino: number, n: string, v: Uint8Array, f: number): Promise<void> { return this.change(() => this.fs.setxattr(ino, n, v, f)); }
  removexattr(ino: number, n: string): Promise<void> { return this.change(() => this.fs.removexattr(ino, n)); }
  fsync(ino?: number): Promise<void> { return this.lock.exclusive(() => this.fs.fsync(ino)); }
  close(): Promise<void> {
    return this.lock.exclusive(() => {
      clearTimeout(this.idle);
      this.closed = true;
      return this.fs.close();
    });
  }
}

/** `driver` with every filesystem it opens behind its own lock. */
export function lockedDriver(driver: FsDriver): FsDriver {
  return {
    type: driver.type,
    probe: (dev: BlockDevice) => driver.probe(dev),
    identify: (dev: BlockDevice) => driver.identify(dev),
    async open(dev: BlockDevice, opts?: FsOpenOptions): Promise<Filesystem> {
      const fs = await driver.open(dev, opts);
      const locked = new LockedFilesystem(fs);
      inner.set(locked, fs);
      return locked;
    },
  };
}

/**
 * The driver's own object behind a locked filesystem, for tests that look at a driver's
 * internals (single caller only: nothing guards it).
 */
export function unlocked(fs: Filesystem): Filesystem {
  return inner.get(fs) ?? fs;
}
