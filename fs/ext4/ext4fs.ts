/**
 * guestkit's ext2/ext3/ext4 driver: the read path (inodes, extent trees and block maps,
 * linear and htree directories, inline data, symlinks, xattrs and ACLs), reading a dirty
 * journal through an in-memory replay. Writes live in ext4-writer.ts.
 */
import type { BlockDevice } from '../../disk/block-device.js';
import { corrupt, FsError } from '../errors.js';
import { nameUsable } from '../names.js';
import type { Attr, DirEntry, FileExtent, Filesystem, FsOpenOptions, StatFs } from '../filesystem.js';
import { UnsupportedWrites } from '../unsupported.js';
import { aclFromDisk } from './acl.js';
import { BlockIO } from './block-io.js';
import { BlockMap } from './block-map.js';
import { COMPAT, INCOMPAT, INODE_FLAG, RO_COMPAT, ROOT_INO, S_IFDIR, S_IFLNK, S_IFREG, SUPERBLOCK_OFFSET, WRITABLE_INCOMPAT, WRITABLE_RO_COMPAT } from './constants.js';
import { crc32c, crc32cU32 } from './crc32c.js';
import { DIR_TAIL_SIZE, findDirent, hasDirTail, parseDirents, type RawDirent } from './dirent.js';
import { extentCache, ExtentMap } from './extents.js';
import type { FileMap, Run } from './file-map.js';
import { BG_INODE_UNINIT, GroupDescs } from './group-desc.js';
import { dxLeaves, nameHash, nullIfDamaged, type DxNode } from './htree.js';
import { inlineDirRegions, inlineFileData } from './inline.js';
import { GOOD_OLD_INODE_SIZE, I, I_BLOCK_BYTES, Inode } from './inode.js';
import { replayJournal } from './journal.js';
import { Superblock } from './superblock.js';
import { fullName, INDEX_ACL_ACCESS, INDEX_ACL_DEFAULT, INDEX_SYSTEM, parseEntries, splitName, XATTR_BLOCK_HEADER, XATTR_MAGIC, type Xattr } from './xattr.js';

/** Inodes kept parsed in memory. */
const INODE_CACHE = 16384;
/** Directories larger than this (far past any real one) are refused. */
const MAX_DIR_BYTES = 4 * 2 ** 30;
/** Blocks read at once when scanning a directory. */
const DIR_CHUNK_BLOCKS = 64;
/** A single read request larger than this is refused (callers read in chunks). */
const MAX_READ = 1 << 30;
const XATTR_DATA = 'data';
/** Directory entries whose inodes are fetched together. */
const READDIR_BATCH = 4096;

/** One region of directory entries: a block (with its logical number) or an inline area. */
export interface DirRegion {
  buf: Buffer;
  /** Logical block, or -1 for inline regions. */
  lblk: number;
  /** Byte offset on the device, for error messages. */
  at?: bigint;
}

export class Ext4Fs extends UnsupportedWrites implements Filesystem {
  readonly rootIno = ROOT_INO;
  readonly type: string;
  readonly extCache = extentCache();
  protected readonly inodes = new Map<number, Inode>();
  /** Directory block buffers (from the block cache) whose checksum was verified. */
  protected verifiedDirBlocks = new WeakSet<Buffer>();
  /** Parsed htree nodes, per block buffer. */
  protected dxNodes = new WeakMap<Buffer, DxNode | null>();

  protected constructor(
    readonly io: BlockIO,
    readonly sb: Superblock,
    readonly gd: GroupDescs,
    readonly writable: boolean,
    protected readonly warn: (m: string) => void,
  ) {
    super();
    this.type = sb.fsType;
  }

  /** Open: superblock, group descriptors, then the journal if it needs recovery. */
  static async openParts(dev: BlockDevice, opts: FsOpenOptions = {}): Promise<{ io: BlockIO; sb: Superblock; gd: GroupDescs; writable: boolean; warn: (m: string) => void }> {
    const warn = opts.warn ?? ((m: string) => process.emitWarning(m));
    let sb = await Superblock.read(dev);
    const writable = opts.writable === true;
    if (writable && !dev.canWrite()) throw new FsError('EROFS', `${dev.name}: device is read-only`);
    if (writable) {
      const roUnknown = sb.roCompat & ~WRITABLE_RO_COMPAT;
      const inUnknown = sb.incompat & ~WRITABLE_INCOMPAT;
      if (roUnknown || inUnknown) {
        const which = [roUnknown ? `RO_COMPAT 0x${roUnknown.toString(16)}` : '', inUnknown ? `INCOMPAT 0x${inUnknown.toString(16)}` : ''].filter(Boolean).join(' and ');
        throw new FsError('EROFS', `${dev.name}: ext4 features ${which} cannot be written by this driver; open read-only`);
      }
    }
    let io = new BlockIO(dev, sb.blockSize, sb.blocksCount);
    let gd = await GroupDescs.read(io, sb);
    if (sb.has(INCOMPAT.RECOVER) && !sb.journalInum) {
      if (writable) throw new FsError('EROFS', `${dev.name}: needs recovery from an external journal, which this driver cannot replay; open read-only`);
      warn(`${dev.name}: needs recovery from an external journal; reading without it (recent changes may be missing)`);
    }
    if (sb.has(INCOMPAT.RECOVER) && sb.journalInum) {
      const tmp = new Ext4Fs(io, sb, gd, false, warn);
      const jinode = await tmp.inode(sb.journalInum);
      const replay = await replayJournal(io, tmp.fileMap(jinode), Math.floor(jinode.size / sb.blockSize), warn);
      if (replay && !writable) {
        warn(`${dev.name}: the journal needs recovery; reading through an in-memory replay of ${replay.transactions} transaction(s), the image is not changed`);
        io.overlay = replay.blocks;
      } else if (writable) {
        // Data before the marks that say it is there: replayed blocks, then a clean journal, then the superblock flag.
        for (const [b, o] of replay?.blocks ?? []) await io.write(b, await io.overlayData(o));
        await dev.flush();
        if (replay) await io.write(replay.cleanSuper.block, replay.cleanSuper.data);
        await dev.flush();
      }
      // Everything (superblock and descriptors included) may have been replayed: read again.
      sb = new Superblock(await superblockBytes(io), dev.name);
      if (writable && sb.has(INCOMPAT.RECOVER)) {
        sb.setIncompat(INCOMPAT.RECOVER, false);
        await dev.write(BigInt(SUPERBLOCK_OFFSET), sb.encode());
        await dev.flush();
      }
      const overlay = io.overlay;
      io = new BlockIO(dev, sb.blockSize, sb.blocksCount);
      io.overlay = overlay;
      gd = await GroupDescs.read(io, sb);
    }
    return { io, sb, gd, writable, warn };
  }

  static async open(dev: BlockDevice, opts: FsOpenOptions = {}): Promise<Ext4Fs> {
    const p = await Ext4Fs.openParts(dev, { ...opts, writable: false });
    return new Ext4Fs(p.io, p.sb, p.gd, false, p.warn);
  }

  label(): string {
    return this.sb.label;
  }

  uuid(): string {
    return this.sb.uuidString;
  }

  protected get dev(): string {
    return this.io.name;
  }

  /** Byte position of inode `ino` on the device. */
  protected inodeLocation(ino: number): { block: number; offset: number } {
    const sb = this.sb;
    if (!Number.isInteger(ino) || ino < 1 || ino > sb.inodesCount) throw new FsError('EIO', `${this.dev}: inode number ${ino} is outside 1..${sb.inodesCount}`);
    const g = Math.floor((ino - 1) / sb.inodesPerGroup);
    const byte = ((ino - 1) % sb.inodesPerGroup) * sb.inodeSize;
    return { block: this.gd.inodeTable(g) + Math.floor(byte / sb.blockSize), offset: byte % sb.blockSize };
  }

  /** Byte offset of an inode on the device, for messages. */
  protected inodeByte(ino: number): bigint {
    const { block, offset } = this.inodeLocation(ino);
    return BigInt(block) * BigInt(this.sb.blockSize) + BigInt(offset);
  }

  async inode(ino: number): Promise<Inode> {
    const hit = this.inodes.get(ino);
    if (hit) return hit;
    const { block } = this.inodeLocation(ino);
    if (!this.inodeUninit(ino)) await this.io.block(block, `inode ${ino}`);
    return this.inodeCached(ino)!;
  }

  private inodeUninit(ino: number): boolean {
    const g = Math.floor((ino - 1) / this.sb.inodesPerGroup);
    return (this.gd.flags(g) & BG_INODE_UNINIT) !== 0 && (this.sb.metadataCsum || this.sb.hasRo(RO_COMPAT.GDT_CSUM));
  }

  /** The inode if its table block is in memory (readdir prefetches them), else undefined. */
  protected inodeCached(ino: number): Inode | undefined {
    const hit = this.inodes.get(ino);
    if (hit) return hit;
    const { block, offset } = this.inodeLocation(ino);
    let raw: Buffer;
    if (this.inodeUninit(ino)) raw = Buffer.alloc(this.sb.inodeSize);
    else {
      const buf = this.io.cached(block);
      if (!buf) return undefined;
      // A view, not a copy: listings touch thousands of inodes. Writers copy before changing.
      raw = buf.subarray(offset, offset + this.sb.inodeSize);
    }
    const inode = new Inode(ino, raw);
    const at = BigInt(block) * BigInt(this.sb.blockSize) + BigInt(offset);
    if (this.sb.inodeSize > GOOD_OLD_INODE_SIZE && GOOD_OLD_INODE_SIZE + inode.extraIsize > this.sb.inodeSize) {
      throw corrupt(this.dev, `inode ${ino}`, `i_extra_isize ${inode.extraIsize} overruns the inode`, at);
    }
    if (this.sb.metadataCsum && inode.mode !== 0 && !inode.checksumOk(this.sb.csumSeed)) {
      throw corrupt(this.dev, `inode ${ino}`, 'checksum mismatch', at);
    }
    this.inodes.set(ino, inode);
    if (this.inodes.size > INODE_CACHE) this.inodes.delete(this.inodes.keys().next().value as number);
    return inode;
  }

  /** Largest file size the inode's mapping can address. */
  private maxSize(inode: Inode): number {
    const bs = this.sb.blockSize;
    if (inode.hasFlag(INODE_FLAG.EXTENTS)) return 2 ** 32 * bs;
    const per = bs / 4;
    return Math.min(2 ** 32 * bs, (12 + per + per * per + per * per * per) * bs);
  }

  /** An inode that a directory entry or caller names: it must be in use and sane. */
  async liveInode(ino: number): Promise<Inode> {
    return this.checkLive(this.inodeCached(ino) ?? (await this.inode(ino)));
  }

  protected checkLive(inode: Inode): Inode {
    if (inode.mode === 0 || (inode.links === 0 && inode.dtime !== 0)) throw corrupt(this.dev, `inode ${inode.ino}`, 'is not in use');
    if (inode.size > this.maxSize(inode) || inode.size > Number.MAX_SAFE_INTEGER) {
      // Printed exactly: a 2^63 claim is not a JS number's 9223372036854776000.
      const size = (BigInt(inode.raw.readUInt32LE(I.sizeHi)) << 32n) | BigInt(inode.raw.readUInt32LE(I.sizeLo));
      throw corrupt(this.dev, `inode ${inode.ino}`, `i_size ${size} is larger than the mapping can address (${this.maxSize(inode)})`, this.inodeByte(inode.ino) + BigInt(I.sizeLo));
    }
    return inode;
  }

  fileMap(inode: Inode): FileMap {
    if (inode.hasFlag(INODE_FLAG.EXTENTS)) {
      const csum = this.sb.metadataCsum ? (buf: Buffer, tailAt: number): number => inodeCsum(this.sb.csumSeed, inode, buf, tailAt) : null;
      return new ExtentMap(this.io, this.extCache, inode.iBlock, inode.ino, csum);
    }
    return new BlockMap(this.io, inode.iBlock, inode.ino);
  }

  private get hugeFile(): boolean {
    return this.sb.hasRo(RO_COMPAT.HUGE_FILE);
  }

  attrOf(inode: Inode): Attr {
    const attr: Attr = {
      ino: inode.ino,
      mode: inode.mode,
      nlink: inode.links,
      uid: inode.uid,
      gid: inode.gid,
      size: inode.size,
      blocks: inode.blocks512(this.hugeFile, this.sb.blockSize),
      atime: inode.time('atime')!,
      mtime: inode.time('mtime')!,
      ctime: inode.time('ctime')!,
      rdev: inode.rdev,
    };
    const crtime = inode.time('crtime');
    if (crtime) attr.birthtime = crtime;
    return attr;
  }

  async getattr(ino: number): Promise<Attr> {
    return this.attrOf(await this.liveInode(ino));
  }

  // ---- extended attributes ----

  /** In-inode then block xattrs, as stored (ACLs in ext4's own format). */
  async xattrs(inode: Inode): Promise<Xattr[]> {
    const out: Xattr[] = [];
    const ibody = GOOD_OLD_INODE_SIZE + inode.extraIsize;
    if (this.sb.inodeSize > GOOD_OLD_INODE_SIZE && ibody + 4 <= this.sb.inodeSize && inode.raw.readUInt32LE(ibody) === XATTR_MAGIC) {
      out.push(...parseEntries(inode.raw.subarray(ibody), 4, 4, this.dev, `inode ${inode.ino} in-inode xattrs`));
    }
    const acl = inode.fileAcl;
    if (acl) {
      const block = await this.xattrBlock(acl, inode.ino);
      out.push(...parseEntries(block, XATTR_BLOCK_HEADER, 0, this.dev, `inode ${inode.ino} xattr block ${acl}`));
    }
    for (const x of out) {
      if (x.valueInum === undefined) continue;
      // ea_inode: the value is the data of an inode flagged EA_INODE.
      const ea = await this.liveInode(x.valueInum);
      if (!ea.hasFlag(INODE_FLAG.EA_INODE) || ea.size !== x.valueSize) {
        throw corrupt(this.dev, `inode ${inode.ino} xattr ${fullName(x)}`, `value inode ${x.valueInum} is not its EA inode (flags 0x${ea.flags.toString(16)}, size ${ea.size} for ${x.valueSize})`);
      }
      x.value = await this.readData(ea, 0, ea.size);
    }
    return out;
  }

  protected async xattrBlock(block: number, ino: number): Promise<Buffer> {
    const what = `inode ${ino} xattr block ${block}`;
    this.io.checkBlock(block, 1, what);
    const buf = await this.io.block(block, what);
    const at = BigInt(block) * BigInt(this.sb.blockSize);
    if (buf.readUInt32LE(0) !== XATTR_MAGIC || buf.readUInt32LE(8) !== 1) throw corrupt(this.dev, what, 'bad xattr block header', at);
    if (this.sb.metadataCsum && xattrBlockCsum(this.sb.csumSeed, block, buf) !== buf.readUInt32LE(0x10)) throw corrupt(this.dev, what, 'checksum mismatch', at);
    return buf;
  }

  async listxattr(ino: number): Promise<string[]> {
    const inode = await this.liveInode(ino);
    return (await this.xattrs(inode)).filter((x) => !(x.index === INDEX_SYSTEM && x.name === XATTR_DATA)).map(fullName);
  }

  async getxattr(ino: number, name: string): Promise<Buffer> {
    const inode = await this.liveInode(ino);
    const want = splitName(name);
    const x = want && !(want.index === INDEX_SYSTEM && want.name === XATTR_DATA) ? (await this.xattrs(inode)).find((e) => e.index === want.index && e.name === want.name) : undefined;
    if (!x) throw new FsError('ENODATA', `${this.dev}: inode ${ino} has no xattr ${name}`);
    if (x.index === INDEX_ACL_ACCESS || x.index === INDEX_ACL_DEFAULT) {
      const v = aclFromDisk(x.value);
      if (!v) throw corrupt(this.dev, `inode ${ino} xattr ${name}`, 'malformed ACL');
      return v;
    }
    return x.value;
  }

  /** The system.data value of an inline inode. */
  protected async inlineExtra(inode: Inode): Promise<Buffer | undefined> {
    return (await this.xattrs(inode)).find((x) => x.index === INDEX_SYSTEM && x.name === XATTR_DATA)?.value;
  }

  // ---- file data ----

  async read(ino: number, offset: number, length: number): Promise<Buffer> {
    const inode = await this.liveInode(ino);
    if (inode.type === S_IFDIR) throw new FsError('EISDIR', `${this.dev}: inode ${ino} is a directory`);
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) throw new FsError('EINVAL', `read of ${length} bytes at ${offset}`);
    if (length > MAX_READ) throw new FsError('EINVAL', `read of ${length} bytes is larger than ${MAX_READ}`);
    return this.readData(inode, offset, length);
  }

  protected async readData(inode: Inode, offset: number, length: number): Promise<Buffer> {
    const end = Math.min(inode.size, offset + length);
    if (end <= offset) return Buffer.alloc(0);
    if (inode.hasFlag(INODE_FLAG.INLINE_DATA)) return Buffer.from(inlineFileData(inode, await this.inlineExtra(inode)).subarray(offset, end));
    const bs = this.sb.blockSize;
    const first = Math.floor(offset / bs);
    const last = Math.ceil(end / bs);
    const map = this.fileMap(inode);
    const reads: Promise<void>[] = [];
    let pend: Run | null = null;
    let outBuf: Buffer | undefined;
    // Not zero-filled: every byte is copied from a run or zeroed as a hole below.
    const output = (): Buffer => (outBuf ??= Buffer.allocUnsafe(end - offset));
    const overlap = (r: Run): [from: number, to: number] => [Math.max(offset, r.lblk * bs), Math.min(end, (r.lblk + r.len) * bs)];
    const flush = (r: Run): void => {
      reads.push(this.io.readBlocks(r.pblk, r.len).then((buf) => {
        const [from, to] = overlap(r);
        buf.copy(output(), from - offset, from - r.lblk * bs, to - r.lblk * bs);
      }));
    };
    for (let lblk = first; lblk < last;) {
      const r = await map.map(lblk, last - lblk);
      if (r.pblk && !r.unwritten) {
        this.io.checkBlock(r.pblk, r.len, `inode ${inode.ino} data`);
        if (pend && pend.pblk + pend.len === r.pblk) pend.len += r.len;
        else {
          if (pend) flush(pend);
          pend = { ...r };
        }
      } else {
        const [from, to] = overlap(r);
        output().fill(0, from - offset, to - offset);
        if (pend) flush(pend);
        pend = null;
      }
      lblk += r.len;
    }
    if (pend && reads.length === 0 && pend.lblk <= first && pend.lblk + pend.len >= last) {
      // One device run covers the whole request: hand back its buffer without a copy.
      const buf = await this.io.readBlocks(pend.pblk, pend.len);
      const skip = offset - pend.lblk * bs;
      return buf.subarray(skip, skip + (end - offset));
    }
    if (pend) flush(pend);
    await Promise.all(reads);
    return output();
  }

  async extents(ino: number): Promise<FileExtent[]> {
    const inode = await this.liveInode(ino);
    const out: FileExtent[] = [];
    const push = (offset: number, length: number, hole: boolean): void => {
      const prev = out[out.length - 1];
      if (prev && prev.hole === hole && prev.offset + prev.length === offset) prev.length += length;
      else out.push({ offset, length, hole });
    };
    if (inode.type !== S_IFREG || inode.hasFlag(INODE_FLAG.INLINE_DATA)) {
      if (inode.size) push(0, inode.size, false);
      return out;
    }
    const bs = this.sb.blockSize;
    const map = this.fileMap(inode);
    const last = Math.ceil(inode.size / bs);
    for (let lblk = 0; lblk < last;) {
      const r = await map.map(lblk, last - lblk);
      const from = r.lblk * bs;
      push(from, Math.min(inode.size, from + r.len * bs) - from, r.pblk === 0 || r.unwritten === true);
      lblk += r.len;
    }
    return out;
  }

  /** Physical runs of a file (for benchmarks and tools comparing with the raw device). */
  async physicalRuns(ino: number): Promise<Run[]> {
    const inode = await this.liveInode(ino);
    const map = this.fileMap(inode);
    const out: Run[] = [];
    const last = Math.ceil(inode.size / this.sb.blockSize);
    for (let lblk = 0; lblk < last;) {
      const r = await map.map(lblk, last - lblk);
      if (r.pblk) out.push(r);
      lblk += r.len;
    }
    return out;
  }

  async readlink(ino: number): Promise<string> {
    const inode = await this.liveInode(ino);
    if (inode.type !== S_IFLNK) throw new FsError('EINVAL', `${this.dev}: inode ${ino} is not a symbolic link`);
    if (inode.size > this.sb.blockSize || inode.size > 65536) throw corrupt(this.dev, `inode ${ino}`, `symlink length ${inode.size} is too long`);
    if (this.isFastSymlink(inode)) {
      if (inode.size >= I_BLOCK_BYTES) throw corrupt(this.dev, `inode ${ino}`, `fast symlink length ${inode.size} exceeds i_block`);
      return inode.iBlock.subarray(0, inode.size).toString('utf8');
    }
    return (await this.readData(inode, 0, inode.size)).toString('utf8');
  }

  protected isFastSymlink(inode: Inode): boolean {
    if (inode.hasFlag(INODE_FLAG.INLINE_DATA)) return false;
    const eaBlocks = inode.fileAcl ? this.sb.blockSize / 512 : 0;
    return inode.blocks512(this.hugeFile, this.sb.blockSize) - eaBlocks === 0;
  }

  // ---- directories ----

  protected async dirInode(ino: number): Promise<Inode> {
    const inode = await this.liveInode(ino);
    if (inode.type !== S_IFDIR) throw new FsError('ENOTDIR', `${this.dev}: inode ${ino} is not a directory`);
    return inode;
  }

  /** Number of blocks of a (non-inline) directory, checked. */
  protected dirBlockCount(inode: Inode): number {
    const bs = this.sb.blockSize;
    if (inode.size % bs !== 0) throw corrupt(this.dev, `directory inode ${inode.ino}`, `i_size ${inode.size} is not a multiple of the block size`);
    if (inode.size > MAX_DIR_BYTES) throw corrupt(this.dev, `directory inode ${inode.ino}`, `i_size ${inode.size} is larger than ${MAX_DIR_BYTES}, the most this driver reads`, this.inodeByte(inode.ino) + BigInt(I.sizeLo));
    return inode.size / bs;
  }

  /** Check a directory block's checksum tail (metadata_csum); htree nodes carry none here. */
  protected checkDirBlock(inode: Inode, buf: Buffer, at: bigint): void {
    if (!this.sb.metadataCsum || !hasDirTail(buf) || this.verifiedDirBlocks.has(buf)) return;
    if (dirBlockCsum(this.sb.csumSeed, inode, buf) !== buf.readUInt32LE(buf.length - 4)) {
      throw corrupt(this.dev, `directory inode ${inode.ino} block`, 'checksum mismatch', at);
    }
    this.verifiedDirBlocks.add(buf);
  }

  /** The entries area of a directory block: without the checksum tail. */
  protected entryArea(buf: Buffer): Buffer {
    return this.sb.metadataCsum && hasDirTail(buf) ? buf.subarray(0, buf.length - DIR_TAIL_SIZE) : buf;
  }

  /** One logical block of a directory, or null for a hole. */
  protected async dirBlock(inode: Inode, lblk: number): Promise<{ buf: Buffer; at: bigint } | null> {
    const r = await this.fileMap(inode).map(lblk, 1);
    if (!r.pblk) return null;
    const buf = await this.io.block(r.pblk, `directory inode ${inode.ino} block ${lblk}`);
    const at = BigInt(r.pblk) * BigInt(this.sb.blockSize);
    return { buf, at };
  }

  /** Every entry region of a directory, in order, read in large chunks. */
  protected async *dirRegions(inode: Inode): AsyncGenerator<DirRegion> {
    if (inode.hasFlag(INODE_FLAG.INLINE_DATA)) {
      for (const buf of inlineDirRegions(inode, await this.inlineExtra(inode)).regions) yield { buf, lblk: -1 };
      return;
    }
    const bs = this.sb.blockSize;
    const n = this.dirBlockCount(inode);
    const map = this.fileMap(inode);
    for (let lblk = 0; lblk < n;) {
      // Holes are skipped whole; mapped runs are read in bounded chunks.
      const r = await map.map(lblk, n - lblk);
      if (r.pblk && !r.unwritten) {
        this.io.checkBlock(r.pblk, r.len, `directory inode ${inode.ino}`);
        for (let done = 0; done < r.len; done += DIR_CHUNK_BLOCKS) {
          const count = Math.min(DIR_CHUNK_BLOCKS, r.len - done);
          const chunk = await this.io.readBlocks(r.pblk + done, count);
          for (let i = 0; i < count; i++) {
            yield { buf: chunk.subarray(i * bs, (i + 1) * bs), lblk: lblk + done + i, at: BigInt(r.pblk + done + i) * BigInt(bs) };
          }
        }
      }
      lblk += r.len;
    }
  }

  /** Live entries of a region (no unused slots, no checksum tail), with "." and "..". */
  protected regionEntries(inode: Inode, reg: DirRegion): RawDirent[] {
    if (reg.at !== undefined) this.checkDirBlock(inode, reg.buf, reg.at);
    const buf = reg.lblk >= 0 ? this.entryArea(reg.buf) : reg.buf;
    return parseDirents(buf, this.sb.has(INCOMPAT.FILETYPE), this.dev, `directory inode ${inode.ino}${reg.lblk >= 0 ? ` block ${reg.lblk}` : ' inline data'}`, reg.at).filter((e) => e.ino !== 0);
  }

  async lookup(parent: number, name: string): Promise<Attr> {
    const ino = await this.lookupIno(parent, name);
    if (ino === null) throw new FsError('ENOENT', `${this.dev}: no entry ${JSON.stringify(name)} in directory inode ${parent}`);
    return this.attrOf(await this.liveInode(ino));
  }

  /** The inode number an entry names, or null. */
  async lookupIno(parent: number, name: string): Promise<number | null> {
    const dir = await this.dirInode(parent);
    const want = Buffer.from(name, 'utf8');
    if (want.length > 255) throw new FsError('ENAMETOOLONG', `${name}: name longer than 255 bytes`);
    if (name === '.') return parent;
    if (name === '..' && dir.hasFlag(INODE_FLAG.INLINE_DATA)) return dir.iBlock.readUInt32LE(0);
    const found = (entries: RawDirent[]): number | null => entries.find((e) => e.name.equals(want))?.ino ?? null;
    if (dir.hasFlag(INODE_FLAG.INDEX) && this.sb.hasCompat(COMPAT.DIR_INDEX) && !dir.hasFlag(INODE_FLAG.INLINE_DATA)) {
      const hit = await this.htreeLookup(dir, want).catch(nullIfDamaged);
      if (hit !== null) return hit.ino;
      // The index was damaged: fall back to a linear scan.
    }
    for await (const reg of this.dirRegions(dir)) {
      const ino = found(this.regionEntries(dir, reg));
      if (ino !== null) return ino;
    }
    return null;
  }

  /** htree lookup; null (so the caller scans linearly) when the index is damaged. */
  async htreeLookup(dir: Inode, want: Buffer): Promise<{ ino: number | null } | null> {
    const nBlocks = this.dirBlockCount(dir);
    const root = await this.dirBlock(dir, 0);
    if (!root) return null;
    const readBlock = async (lblk: number): Promise<Buffer> => {
      const b = await this.dirBlock(dir, lblk);
      if (!b) throw corrupt(this.dev, `directory inode ${dir.ino}`, `htree points at hole ${lblk}`);
      return b.buf;
    };
    const found = await dxLeaves(root.buf, this.sb.metadataCsum, this.sb.has(INCOMPAT.LARGEDIR) ? 3 : 2, nBlocks,
      (info) => nameHash(info, this.sb.unsignedHash, this.sb.hashSeed, want), readBlock, this.dxNodes);
    if (!found) return null;
    for (const lblk of found.leaves) {
      const b = await this.dirBlock(dir, lblk);
      if (!b) return null;
      this.checkDirBlock(dir, b.buf, b.at);
      const hit = findDirent(this.entryArea(b.buf), want, this.sb.has(INCOMPAT.FILETYPE), this.dev, `directory inode ${dir.ino} block ${lblk}`, b.at);
      if (hit !== null) return { ino: hit };
    }
    return { ino: null };
  }

  async readdir(ino: number): Promise<DirEntry[]> {
    const dir = await this.dirInode(ino);
    const entries: { name: string; ino: number }[] = [];
    for await (const reg of this.dirRegions(dir)) {
      for (const e of this.regionEntries(dir, reg)) {
        const name = e.name.toString('utf8');
        if (name === '.' || name === '..') continue;
        const where = reg.at === undefined ? undefined : reg.at + BigInt(e.offset);
        if (!nameUsable(name, this.warn, this.dev, `directory inode ${ino}${reg.lblk >= 0 ? ` block ${reg.lblk}` : ' inline data'}`, where)) continue;
        entries.push({ name, ino: e.ino });
      }
    }
    const out: DirEntry[] = [];
    // In batches, so the inode-table blocks of one batch stay in the cache until used.
    for (let i = 0; i < entries.length; i += READDIR_BATCH) {
      const batch = entries.slice(i, i + READDIR_BATCH);
      await this.prefetchInodes(batch.map((e) => e.ino));
      for (const e of batch) {
        // One damaged inode costs its entry (with a warning), not the whole listing; lookup still says why.
        let attr: Attr;
        try {
          attr = this.attrOf(this.checkLive(this.inodeCached(e.ino) ?? (await this.inode(e.ino))));
        } catch (err) {
          if (!(err instanceof FsError)) throw err;
          this.warn(`${err.message}: entry "${e.name}" of directory inode ${ino} skipped`);
          continue;
        }
        out.push({ name: e.name, attr });
      }
    }
    return out;
  }

  /** Read the inode-table blocks holding these inodes in as few device reads as possible. */
  protected async prefetchInodes(inos: number[]): Promise<void> {
    const blocks = new Set<number>();
    for (const ino of inos) {
      if (this.inodes.has(ino)) continue;
      const loc = this.inodeLocation(ino);
      blocks.add(loc.block);
    }
    await this.io.prefetch([...blocks], 'inode table');
  }

  async statfs(): Promise<StatFs> {
    let freeBlocks = 0;
    let freeInodes = 0;
    for (let g = 0; g < this.sb.groupCount; g++) {
      freeBlocks += this.gd.freeBlocks(g);
      freeInodes += this.gd.freeInodes(g);
    }
    freeBlocks *= this.sb.clusterRatio;
    const reserved = Number(this.sb.reservedBlocks);
    return {
      blockSize: this.sb.blockSize,
      blocks: Number(this.sb.blocksCount),
      freeBlocks,
      availBlocks: Math.max(0, freeBlocks - reserved),
      files: this.sb.inodesCount,
      freeFiles: freeInodes,
      nameMax: 255,
    };
  }

  async close(): Promise<void> {
    await this.fsync();
  }
}

/** Read the 1024 superblock bytes through the block layer (journal overlay included). */
async function superblockBytes(io: BlockIO): Promise<Buffer> {
  const bs = io.blockSize;
  const block = Math.floor(SUPERBLOCK_OFFSET / bs);
  const buf = await io.readBlocks(block, Math.ceil((SUPERBLOCK_OFFSET + 1024) / bs) - block);
  const off = SUPERBLOCK_OFFSET - block * bs;
  return Buffer.from(buf.subarray(off, off + 1024));
}

/** Checksum of per-inode metadata blocks: crc32c(seed, ino, generation, block[0, end)). */
export function inodeCsum(seed: number, inode: Inode, block: Buffer, end: number): number {
  return crc32c(crc32cU32(crc32cU32(seed, inode.ino), inode.generation), block, 0, end);
}

/** Directory block checksum: over the block up to its tail. */
export function dirBlockCsum(seed: number, inode: Inode, block: Buffer): number {
  return inodeCsum(seed, inode, block, block.length - DIR_TAIL_SIZE);
}

/** xattr block checksum: crc32c(seed, block number as LE64, block with h_checksum zeroed). */
export function xattrBlockCsum(seed: number, block: number, buf: Buffer): number {
  const nr = Buffer.alloc(8);
  nr.writeBigUInt64LE(BigInt(block));
  const copy = Buffer.from(buf);
  copy.writeUInt32LE(0, 0x10);
  return crc32c(crc32c(seed, nr), copy);
}

