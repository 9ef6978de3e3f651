/**
 * How a file shows through POSIX, as ntfs-3g shows it without a user mapping: owner and
 * mode from the uid=/gid=/umask= (fmask=/dmask=) options, times from $STANDARD_INFORMATION,
 * Interix special files (symlinks, devices, FIFOs, sockets) and symlink reparse points.
 */
import { corrupt, FsError } from '../errors.js';
import type { Attr, FsOpenOptions } from '../filesystem.js';
import { AT, ATTR_FLAG } from './attribute.js';
import type { NtfsFile } from './file.js';
import { REPARSE_TAG, reparseTag } from './reparse.js';
import { ntfsTime } from './time.js';

export const FILE_ATTR = {
  READONLY: 0x1, HIDDEN: 0x2, SYSTEM: 0x4, DIRECTORY: 0x10, ARCHIVE: 0x20,
  SPARSE: 0x200, REPARSE: 0x400, COMPRESSED: 0x800, ENCRYPTED: 0x4000,
} as const;

const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const S_IFIFO = 0o010000;
const S_IFSOCK = 0o140000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;

export const INTX = { SYMLINK: 'IntxLNK\x01', CHAR: 'IntxCHR\0', BLOCK: 'IntxBLK\0' } as const;
const INTX_DEVICE_SIZE = 24;
/** ntfs-3g reads an Interix header only for data up to 8 + 2*PATH_MAX bytes. */
export const INTX_MAX = 8 + 2 * 4096;

export interface Ownership {
  uid: number;
  gid: number;
  fmask: number;
  dmask: number;
}

function octal(v: string | true | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (v === true || !/^[0-7]{1,4}$/.test(v)) throw new FsError('EINVAL', `ntfs option ${name}= needs an octal mask`);
  return parseInt(v, 8);
}

function int(v: string | true | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (v === true || !/^\d+$/.test(v)) throw new FsError('EINVAL', `ntfs option ${name}= needs a number`);
  return Number(v);
}

export function ownership(opts: FsOpenOptions['options'] = {}): Ownership {
  const umask = octal(opts.umask, 'umask') ?? 0;
  return {
    uid: int(opts.uid, 'uid') ?? 0,
    gid: int(opts.gid, 'gid') ?? 0,
    fmask: octal(opts.fmask, 'fmask') ?? umask,
    dmask: octal(opts.dmask, 'dmask') ?? umask,
  };
}

export interface StdInfo {
  attributes: number;
  securityId: number;
  created: bigint;
  modified: bigint;
  changed: bigint;
  accessed: bigint;
}

export function stdInfo(f: NtfsFile): StdInfo {
  const v = f.residentValue(AT.STANDARD_INFORMATION);
  if (!v || v.length < 48) throw corrupt(f.device, `MFT record ${f.num}`, 'missing or short $STANDARD_INFORMATION', f.base.at);
  return {
    created: v.readBigUInt64LE(0),
    modified: v.readBigUInt64LE(8),
    changed: v.readBigUInt64LE(16),
    accessed: v.readBigUInt64LE(24),
    attributes: v.readUInt32LE(32),
    securityId: v.length >= 56 ? v.readUInt32LE(52) : 0,
  };
}

/** Hard links: every $FILE_NAME counts, a DOS short name too (as the record's link count, which ntfs-3g shows). */
export function linkCount(f: NtfsFile): number {
  return f.all(AT.FILE_NAME).length;
}

export type Kind = 'dir' | 'file' | 'reparse-link' | 'intx-link' | 'fifo' | 'socket' | 'chr' | 'blk';

export interface Shown {
  kind: Kind;
  rdev: number;
}

/** What kind of POSIX object the file is; `head` is the first bytes of its unnamed $DATA. */
export function classify(f: NtfsFile, si: StdInfo, reparse: Buffer | undefined, head: Buffer | undefined): Shown {
  if (reparse && (si.attributes & FILE_ATTR.REPARSE) !== 0) {
    const tag = reparseTag(reparse);
    if (tag === REPARSE_TAG.SYMLINK || tag === REPARSE_TAG.MOUNT_POINT) return { kind: 'reparse-link', rdev: 0 };
  }
  if (f.isDir) return { kind: 'dir', rdev: 0 };
  if ((si.attributes & FILE_ATTR.SYSTEM) !== 0 && head) {
    const data = f.find(AT.DATA)!;
    if ((si.attributes & FILE_ATTR.HIDDEN) === 0) {
      if (data.dataSize === 0) return { kind: 'fifo', rdev: 0 };
      if (data.dataSize === 1) return { kind: 'socket', rdev: 0 };
    }
    if (data.dataSize > 8 && data.dataSize <= INTX_MAX) {
      const magic = head.toString('latin1', 0, 8);
      if (magic === INTX.SYMLINK) return { kind: 'intx-link', rdev: 0 };
      if ((magic === INTX.CHAR || magic === INTX.BLOCK) && data.dataSize === INTX_DEVICE_SIZE) {
        const major = Number(head.readBigUInt64LE(8));
        const minor = Number(head.readBigUInt64LE(16));
        // Linux's dev_t encoding, as makedev() builds it.
        const rdev = ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & ~0xff) << 12);
        return { kind: magic === INTX.CHAR ? 'chr' : 'blk', rdev };
      }
    }
  }
  return { kind: 'file', rdev: 0 };
}

const TYPE_BITS: Record<Kind, number> = {
  dir: S_IFDIR, file: S_IFREG, 'reparse-link': S_IFLNK, 'intx-link': S_IFLNK, fifo: S_IFIFO, socket: S_IFSOCK, chr: S_IFCHR, blk: S_IFBLK,
};

/** Build the POSIX attributes; `linkSize` is the symlink target's length for links. */
export function buildAttr(f: NtfsFile, si: StdInfo, shown: Shown, own: Ownership, linkSize: number): Attr {
  let size = 0;
  let alloc = 0;
  let nlink = 1;
  if (shown.kind === 'dir') {
    const ia = f.find(AT.INDEX_ALLOCATION, '$I30');
    if (ia) {
      size = ia.dataSize;
      alloc = ia.allocSize;
    }
  } else {
    const data = f.find(AT.DATA);
    if (data) {
      size = data.dataSize;
      alloc = !data.resident && (data.flags & (ATTR_FLAG.COMPRESSED | ATTR_FLAG.SPARSE)) !== 0 ? data.compSize : data.allocSize;
    }
    nlink = Math.max(1, linkCount(f));
    if (shown.kind === 'reparse-link' || shown.kind === 'intx-link') size = linkSize;
  }
  // Symlinks show 0777 whatever the masks, as ntfs-3g shows them.
  const link = shown.kind === 'reparse-link' || shown.kind === 'intx-link';
  const mask = link ? 0 : shown.kind === 'dir' ? own.dmask : own.fmask;
  return {
    ino: f.num,
    mode: TYPE_BITS[shown.kind] | (0o777 & ~mask),
    nlink,
    uid: own.uid,
    gid: own.gid,
    size,
    blocks: Math.ceil(alloc / 512),
    atime: ntfsTime(si.accessed),
    mtime: ntfsTime(si.modified),
    ctime: ntfsTime(si.changed),
    birthtime: ntfsTime(si.created),
    rdev: shown.rdev,
  };
}
