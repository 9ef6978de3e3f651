/** One on-disk inode: parsed fields over its raw bytes, which writes change and re-checksum. */
import type { Timespec } from '../filesystem.js';
import { INODE_FLAG, S_IFBLK, S_IFCHR, S_IFMT } from './constants.js';
import { crc32c, crc32cU32 } from './crc32c.js';

/** Field offsets inside an inode. */
export const I = {
  mode: 0x0, uid: 0x2, sizeLo: 0x4, atime: 0x8, ctime: 0xc, mtime: 0x10, dtime: 0x14, gid: 0x18,
  links: 0x1a, blocksLo: 0x1c, flags: 0x20, block: 0x28, generation: 0x64, fileAclLo: 0x68,
  sizeHi: 0x6c, blocksHi: 0x74, fileAclHi: 0x76, uidHi: 0x78, gidHi: 0x7a, checksumLo: 0x7c,
  extraIsize: 0x80, checksumHi: 0x82, ctimeExtra: 0x84, mtimeExtra: 0x88, atimeExtra: 0x8c,
  crtime: 0x90, crtimeExtra: 0x94,
} as const;
export const GOOD_OLD_INODE_SIZE = 128;
export const I_BLOCK_BYTES = 60;

const ZERO2 = Buffer.alloc(2);

export type TimeField = 'atime' | 'mtime' | 'ctime' | 'crtime';
const BASE: Record<TimeField, number> = { atime: I.atime, mtime: I.mtime, ctime: I.ctime, crtime: I.crtime };
const EXTRA: Record<TimeField, number> = { atime: I.atimeExtra, mtime: I.mtimeExtra, ctime: I.ctimeExtra, crtime: I.crtimeExtra };

export class Inode {
  /** Bytes of the inode that exist on disk: 128 plus i_extra_isize (checked by the reader). */
  private readonly extent: number;

  constructor(
    readonly ino: number,
    /** The on-disk inode (s_inode_size bytes): a view of its inode-table block, or a copy. */
    readonly raw: Buffer,
  ) {
    this.extent = raw.length > GOOD_OLD_INODE_SIZE ? Math.min(raw.length, GOOD_OLD_INODE_SIZE + raw.readUInt16LE(I.extraIsize)) : GOOD_OLD_INODE_SIZE;
  }

  get mode(): number { return this.raw.readUInt16LE(I.mode); }
  set mode(v: number) { this.raw.writeUInt16LE(v, I.mode); }
  get type(): number { return this.mode & S_IFMT; }
  get uid(): number { return this.raw.readUInt16LE(I.uid) + this.raw.readUInt16LE(I.uidHi) * 65536; }
  set uid(v: number) { this.raw.writeUInt16LE(v & 0xffff, I.uid); this.raw.writeUInt16LE(v >>> 16, I.uidHi); }
  get gid(): number { return this.raw.readUInt16LE(I.gid) + this.raw.readUInt16LE(I.gidHi) * 65536; }
  set gid(v: number) { this.raw.writeUInt16LE(v & 0xffff, I.gid); this.raw.writeUInt16LE(v >>> 16, I.gidHi); }
  get size(): number { return this.raw.readUInt32LE(I.sizeLo) + this.raw.readUInt32LE(I.sizeHi) * 2 ** 32; }
  set size(v: number) { this.raw.writeUInt32LE(v % 2 ** 32, I.sizeLo); this.raw.writeUInt32LE(Math.floor(v / 2 ** 32), I.sizeHi); }
  get links(): number { return this.raw.readUInt16LE(I.links); }
  set links(v: number) { this.raw.writeUInt16LE(v, I.links); }
  get flags(): number { return this.raw.readUInt32LE(I.flags); }
  set flags(v: number) { this.raw.writeUInt32LE(v >>> 0, I.flags); }
  get dtime(): number { return this.raw.readUInt32LE(I.dtime); }
  set dtime(v: number) { this.raw.writeUInt32LE(v >>> 0, I.dtime); }
  get generation(): number { return this.raw.readUInt32LE(I.generation); }
  get fileAcl(): number { return this.raw.readUInt32LE(I.fileAclLo) + this.raw.readUInt16LE(I.fileAclHi) * 2 ** 32; }
  set fileAcl(v: number) { this.raw.writeUInt32LE(v % 2 ** 32, I.fileAclLo); this.raw.writeUInt16LE(Math.floor(v / 2 ** 32), I.fileAclHi); }
  /** The 60-byte i_block area: extent root, block map, inline data or symlink target. */
  get iBlock(): Buffer { return this.raw.subarray(I.block, I.block + I_BLOCK_BYTES); }
  get extraIsize(): number { return this.raw.length > GOOD_OLD_INODE_SIZE ? this.raw.readUInt16LE(I.extraIsize) : 0; }
  hasFlag(f: number): boolean { return (this.flags & f) !== 0; }

  /** Raw i_blocks: 512-byte units unless huge_file and the inode's HUGE_FILE flag say blocks. */
  blocks512(hugeFileFs: boolean, blockSize: number): number {
    const n = this.raw.readUInt32LE(I.blocksLo) + (hugeFileFs ? this.raw.readUInt16LE(I.blocksHi) * 2 ** 32 : 0);
    return hugeFileFs && this.hasFlag(INODE_FLAG.HUGE_FILE) ? n * (blockSize / 512) : n;
  }

  setBlocks512(n: number): void {
    this.raw.writeUInt32LE(n % 2 ** 32, I.blocksLo);
    this.raw.writeUInt16LE(Math.floor(n / 2 ** 32), I.blocksHi);
  }

  /** Is the extra field at `offset` (4 bytes) inside i_extra_isize? */
  private hasExtra(offset: number): boolean {
    return this.extent >= offset + 4;
  }

  /** A timestamp with nanoseconds and the extra epoch bits that carry it past 2038. */
  time(f: TimeField): Timespec | undefined {
    const at = BASE[f];
    const extraAt = EXTRA[f];
    if (this.extent < at + 4) return undefined;
    const base = this.raw.readInt32LE(at);
    if (this.extent < extraAt + 4) return { sec: base, nsec: 0 };
    const extra = this.raw.readUInt32LE(extraAt);
    return { sec: base + (extra & 3) * 2 ** 32, nsec: Math.min(extra >>> 2, 999_999_999) };
  }

  setTime(f: TimeField, t: Timespec): void {
    if (f === 'crtime' && !this.hasExtra(I.crtime)) return;
    const epoch = Math.floor((t.sec + 2 ** 31) / 2 ** 32);
    const base = t.sec - epoch * 2 ** 32;
    this.raw.writeInt32LE(base, BASE[f]);
    if (this.hasExtra(EXTRA[f])) this.raw.writeUInt32LE(((t.nsec << 2) | (epoch & 3)) >>> 0, EXTRA[f]);
  }

  /** st_rdev of a device node, decoded from the old (16-bit) or new (32-bit) encoding. */
  get rdev(): number {
    if (this.type !== S_IFCHR && this.type !== S_IFBLK) return 0;
    const old = this.raw.readUInt32LE(I.block);
    if (old) return makedev((old >>> 8) & 0xff, old & 0xff);
    const nw = this.raw.readUInt32LE(I.block + 4);
    return makedev((nw >>> 8) & 0xfff, (nw & 0xff) | ((nw >>> 12) & 0xfff00));
  }

  /** The inode checksum (metadata_csum): crc32c(seed, ino, generation, inode with csum zeroed). */
  checksum(seed: number): number {
    const hasHi = this.hasExtra(I.checksumHi - 2);
    let c = crc32cU32(crc32cU32(seed, this.ino), this.generation);
    // The checksum fields count as zeros; checksumming around them avoids copying the inode.
    c = crc32c(c, this.raw, 0, I.checksumLo);
    c = crc32c(c, ZERO2);
    if (hasHi) {
      c = crc32c(c, this.raw, I.checksumLo + 2, I.checksumHi);
      c = crc32c(c, ZERO2);
      c = crc32c(c, this.raw, I.checksumHi + 2);
    } else c = crc32c(c, this.raw, I.checksumLo + 2);
    return hasHi ? c : c & 0xffff;
  }

  checksumOk(seed: number): boolean {
    const c = this.checksum(seed);
    const stored = this.raw.readUInt16LE(I.checksumLo) + (this.hasExtra(I.checksumHi - 2) ? this.raw.readUInt16LE(I.checksumHi) * 65536 : 0);
    return c === stored;
  }

  seal(seed: number, csum: boolean): Buffer {
    if (csum) {
      const c = this.checksum(seed);
      this.raw.writeUInt16LE(c & 0xffff, I.checksumLo);
      if (this.hasExtra(I.checksumHi - 2)) this.raw.writeUInt16LE(c >>> 16, I.checksumHi);
    }
    return this.raw;
  }
}

/** Linux dev_t from major and minor, as stat(2) reports it. */
export function makedev(major: number, minor: number): number {
  return ((minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) << 12)) >>> 0;
}
