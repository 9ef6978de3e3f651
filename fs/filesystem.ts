/**
 * The Filesystem interface: small, inode-based, so the FUSE layer maps onto it directly.
 * Every driver (ext4, ntfs, fat) implements the read calls; writable drivers implement the
 * rest. A call a driver cannot do answers FsError ENOTSUP (or EROFS when opened read-only).
 */
import type { BlockDevice } from '../disk/block-device.js';

export interface Timespec {
  sec: number;
  nsec: number;
}

export interface Attr {
  ino: number;
  /** Full st_mode: type bits (S_IFREG…) and permission bits. */
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  size: number;
  /** 512-byte blocks allocated. */
  blocks: number;
  atime: Timespec;
  mtime: Timespec;
  ctime: Timespec;
  /** Creation time, where the filesystem records one. */
  birthtime?: Timespec;
  /** Device number for character and block device nodes. */
  rdev: number;
}

export interface DirEntry {
  name: string;
  attr: Attr;
}

/** A directory entry as a FUSE readdir needs it: the kernel takes only the inode number and the type. */
export interface DirName {
  name: string;
  ino: number;
  /** The S_IFMT bits of the mode, or 0 where neither the directory nor a cheap look says. */
  type: number;
}

export interface StatFs {
  blockSize: number;
  blocks: number;
  freeBlocks: number;
  availBlocks: number;
  files: number;
  freeFiles: number;
  nameMax: number;
}

/** A byte run of a file: `hole` runs read as zeros and need not be copied. */
export interface FileExtent {
  offset: number;
  length: number;
  hole: boolean;
}

export interface FsOpenOptions {
  /** Open for writing; without it the driver writes not one byte. */
  writable?: boolean;
  /** Driver options as `-o` strings give them (ntfs: uid=, gid=, umask=, force). */
  options?: Record<string, string | true>;
  /** Warnings (dirty journal, hibernated volume) go here instead of stderr. */
  warn?: (message: string) => void;
}

export interface Filesystem {
  readonly type: string;
  readonly rootIno: number;
  readonly writable: boolean;
  label(): string;
  uuid(): string;

  lookup(parent: number, name: string): Promise<Attr>;
  getattr(ino: number): Promise<Attr>;
  /** Entries other than "." and "..", each with its attributes. */
  readdir(ino: number): Promise<DirEntry[]>;
  /** readdir's names, inode numbers and types, reading no inode where the directory records the type (ext4's dirents). */
  readdirTypes(ino: number): Promise<DirName[]>;
  read(ino: number, offset: number, length: number): Promise<Buffer>;
  /**
   * `read` into the caller's buffer: bytes from `offset` fill `buf` from its start, and the
   * count comes back (short only at the end of the file). Nothing lands in `buf` after the
   * promise settles, so the caller may reuse it then (FUSE's request buffers, virt-cat's).
   */
  readInto(ino: number, offset: number, buf: Buffer): Promise<number>;
  readlink(ino: number): Promise<string>;
  listxattr(ino: number): Promise<string[]>;
  getxattr(ino: number, name: string): Promise<Buffer>;
  statfs(): Promise<StatFs>;
  extents(ino: number): Promise<FileExtent[]>;

  create(parent: number, name: string, mode: number, uid: number, gid: number): Promise<Attr>;
  mknod(parent: number, name: string, mode: number, rdev: number, uid: number, gid: number): Promise<Attr>;
  write(ino: number, offset: number, data: Uint8Array): Promise<number>;
  truncate(ino: number, size: number): Promise<void>;
  unlink(parent: number, name: string): Promise<void>;
  mkdir(parent: number, name: string, mode: number, uid: number, gid: number): Promise<Attr>;
  rmdir(parent: number, name: string): Promise<void>;
  rename(parent: number, name: string, newParent: number, newName: string): Promise<void>;
  link(ino: number, newParent: number, newName: string): Promise<Attr>;
  symlink(parent: number, name: string, target: string, uid: number, gid: number): Promise<Attr>;
  chmod(ino: number, mode: number): Promise<void>;
  chown(ino: number, uid: number, gid: number): Promise<void>;
  utimens(ino: number, atime: Timespec | null, mtime: Timespec | null): Promise<void>;
  setxattr(ino: number, name: string, value: Uint8Array, flags: number): Promise<void>;
  removexattr(ino: number, name: string): Promise<void>;
  /** Make everything written so far durable on the device. */
  fsync(ino?: number): Promise<void>;
  /**
   * Called by the lock (`locked.ts`) after each change, between operations, where a driver
   * that batches changes (ext4's journal) may commit them. A driver still holding changes
   * back returns the milliseconds after which it wants to be called again if no change comes
   * first (the kernel's commit interval): the lock then calls it alone, on a timer that does
   * not keep the process alive.
   */
  afterChange?(): Promise<number | undefined>;
  /** Flush and release; the device itself is closed by its owner. */
  close(): Promise<void>;
}

/** What listing a filesystem shows (virt-filesystems): type, label, UUID and size in bytes. */
export interface FsIdentity {
  /** As blkid names it ("ext2", "ext3", "ext4", "ntfs", "vfat"). */
  type: string;
  label: string;
  uuid: string;
  size: bigint;
}

export interface FsDriver {
  readonly type: string;
  /** Answer from the superblock alone: is this device this filesystem? */
  probe(dev: BlockDevice): Promise<boolean>;
  /**
   * Label, UUID and size of a device `probe` accepted, read as blkid does (the superblock and
   * what a label needs), without opening the filesystem: no journal replay, no free counts.
   */
  identify(dev: BlockDevice): Promise<FsIdentity>;
  open(dev: BlockDevice, opts?: FsOpenOptions): Promise<Filesystem>;
}
