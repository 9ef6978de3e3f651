/**
 * The storage layer under the ext2/3/4 writer: owning and saving inodes, allocating and
 * freeing blocks, rebuilding a file's extent tree or block map, moving inline data out,
 * directory blocks and xattr storage. Ordering: data, then the bitmaps and counts that
 * allocate it, then the inode or tree that points at it; frees go the other way (on disk
 * without a journal; within a transaction with one, see transactions.ts).
 */
import { corrupt, FsError } from '../errors.js';
import type { Timespec } from '../filesystem.js';
import { Allocator } from './alloc.js';
import { JournalWriter } from './journal-writer.js';
import { Transactions } from './transactions.js';
import { INCOMPAT, INODE_FLAG, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from './constants.js';
import { dotEntries, hasDirTail, packDirBlock, parseDirents, type PackEntry, type RawDirent } from './dirent.js';
import { blockMapLimit, buildBlockMap, readBlockMapTree } from './block-map-write.js';
import { extentTailOffset } from './extents.js';
import { buildTree, readExtentTree, treeBlocksNeeded, type Extent } from './extent-list.js';
import { dirBlockCsum, Ext4Fs, inodeCsum, xattrBlockCsum } from './ext4fs.js';
import { GOOD_OLD_INODE_SIZE, I, I_BLOCK_BYTES, Inode } from './inode.js';
import { inlineDirRegions, inlineFileData } from './inline.js';
import { blockHash, INDEX_SYSTEM, layoutEntries, XATTR_BLOCK_HEADER, XATTR_MAGIC, type Xattr } from './xattr.js';

const XATTR_DATA = 'data';
const DEFAULT_EXTRA_ISIZE = 32;

function now(): Timespec {
  const ms = Date.now();
  return { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1e6 };
}

export type OpenedParts = Awaited<ReturnType<typeof Ext4Fs.openParts>>;

export abstract class Ext4Storage extends Ext4Fs {
  protected readonly alloc: Allocator;
  /** Where metadata goes: in place, or through the journal once `useJournal` ran. */
  protected txn: Transactions;

  protected constructor(p: OpenedParts) {
    super(p.io, p.sb, p.gd, true, p.warn);
    this.alloc = new Allocator(this.io, this.sb, this.gd);
    this.txn = new Transactions(this.io, this.sb, this.alloc, null, this.warn);
  }

  /** From now on metadata changes go through the filesystem's jbd2 journal, if it has one. */
  protected async useJournal(): Promise<void> {
    if (!this.sb.journalInum) return;
    const j = await this.inode(this.sb.journalInum);
    const journal = await JournalWriter.open(this.io, this.fileMap(j), Math.floor(j.size / this.sb.blockSize));
    this.txn = new Transactions(this.io, this.sb, this.alloc, journal, this.warn);
  }

  // ---- inodes ----

  /** A private copy of an inode to change and then `save`. */
  protected async own(ino: number): Promise<Inode> {
    const live = await this.liveInode(ino);
    return new Inode(ino, Buffer.from(live.raw));
  }

  protected async save(inode: Inode): Promise<void> {
    inode.seal(this.sb.csumSeed, this.sb.metadataCsum);
    const { block, offset } = this.inodeLocation(inode.ino);
    const buf = await this.io.block(block, `inode ${inode.ino}`);
    inode.raw.copy(buf, offset);
    await this.io.write(block, buf);
    this.inodes.set(inode.ino, new Inode(inode.ino, buf.subarray(offset, offset + this.sb.inodeSize)));
  }

  /** Bitmaps, descriptors and the superblock's counts, after every change. */
  protected async writeSuper(): Promise<void> {
    await this.alloc.flush();
    await this.txn.putSuper();
  }

  /** A private copy of a file or directory about to change its data: inline data moved out first. */
  protected async ownWritable(ino: number): Promise<Inode> {
    const inode = await this.own(ino);
    if (inode.hasFlag(INODE_FLAG.INLINE_DATA)) {
      if (inode.type !== S_IFREG && inode.type !== S_IFDIR) throw new FsError('ENOTSUP', `${this.dev}: inode ${ino} keeps inline data of a special file`);
      await this.uninline(inode);
      return this.own(ino);
    }
    return inode;
  }

  /**
   * Move inline data (i_block plus system.data) into one ordinary block: a file's bytes, or a
   * directory rebuilt as ".", ".." and its entries. Data first, then the inode, then the xattr.
   */
  protected async uninline(inode: Inode): Promise<void> {
    const bs = this.sb.blockSize;
    const extra = await this.inlineExtra(inode);
    let block: Buffer | null = null;
    if (inode.type === S_IFDIR) {
      const { parent, regions } = inlineDirRegions(inode, extra);
      const live: RawDirent[] = [];
      for (const r of regions) live.push(...parseDirents(r, this.sb.has(INCOMPAT.FILETYPE), this.dev, `inline directory inode ${inode.ino}`).filter((e) => e.ino !== 0));
      block = this.packDir([...dotEntries(inode.ino, parent), ...live]);
      inode.size = bs;
    } else if (inode.size > 0) {
      block = Buffer.alloc(bs);
      inlineFileData(inode, extra).copy(block);
    }
    inode.flags = (inode.flags & ~INODE_FLAG.INLINE_DATA) | INODE_FLAG.EXTENTS;
    let list: Extent[] = [];
    if (block) {
      const [a] = await this.allocRange(this.gd.inodeTable(Math.floor((inode.ino - 1) / this.sb.inodesPerGroup)), 1);
      if (inode.type === S_IFDIR) {
        if (this.sb.metadataCsum) block.writeUInt32LE(dirBlockCsum(this.sb.csumSeed, inode, block), bs - 4);
        await this.io.write(a!.start, block);
      } else await this.io.writeData(a!.start, block);
      list = [{ lblk: 0, pblk: a!.start, len: 1, unwritten: false }];
    }
    await this.commitExtents(inode, list, []);
    const rest = (await this.xattrs(inode)).filter((x) => !(x.index === INDEX_SYSTEM && x.name === XATTR_DATA));
    await this.storeXattrs(inode, rest);
  }

  protected async newInode(parent: number, mode: number, uid: number, gid: number): Promise<Inode> {
    const dir = (mode & S_IFMT) === S_IFDIR;
    const group = Math.floor((parent - 1) / this.sb.inodesPerGroup);
    const ino = await this.alloc.allocInode(group, dir);
    const raw = Buffer.alloc(this.sb.inodeSize);
    if (this.sb.inodeSize > GOOD_OLD_INODE_SIZE) raw.writeUInt16LE(Math.min(this.sb.wantExtraIsize || DEFAULT_EXTRA_ISIZE, this.sb.inodeSize - GOOD_OLD_INODE_SIZE), I.extraIsize);
    raw.writeUInt32LE((Math.random() * 2 ** 32) >>> 0, I.generation);
    const inode = new Inode(ino, raw);
    inode.mode = mode;
    inode.uid = uid;
    inode.gid = gid;
    inode.links = 1;
    const t = now();
    for (const f of ['atime', 'mtime', 'ctime', 'crtime'] as const) inode.setTime(f, t);
    const type = mode & S_IFMT;
    if ((type === S_IFREG || type === S_IFDIR) && this.sb.has(INCOMPAT.EXTENTS)) {
      inode.flags = INODE_FLAG.EXTENTS;
      buildTree([], inode.iBlock, [], this.sb.blockSize);
    }
    return inode;
  }

  protected maxBytes(inode: Inode): number {
    const bs = this.sb.blockSize;
    return (inode.hasFlag(INODE_FLAG.EXTENTS) ? 2 ** 32 : Math.min(2 ** 32, blockMapLimit(bs))) * bs;
  }

  protected touch(inode: Inode, ...fields: ('atime' | 'mtime' | 'ctime')[]): void {
    const t = now();
    for (const f of fields) inode.setTime(f, t);
  }

  // ---- extent trees and blocks ----

  protected async mapping(inode: Inode): Promise<{ extents: Extent[]; treeBlocks: number[] }> {
    if (inode.hasFlag(INODE_FLAG.INLINE_DATA)) return { extents: [], treeBlocks: [] };
    if (inode.hasFlag(INODE_FLAG.EXTENTS)) return readExtentTree(this.io, inode.iBlock, inode.ino);
    if (inode.type === S_IFREG || inode.type === S_IFDIR || (inode.type === S_IFLNK && !this.isFastSymlink(inode))) {
      return readBlockMapTree(this.io, inode.iBlock, inode.ino);
    }
    return { extents: [], treeBlocks: [] };
  }

  /** Rebuild an ext2/ext3 block map from `list`, like `commitExtents` does for trees. */
  protected async commitBlockMap(inode: Inode, list: Extent[], oldTree: number[]): Promise<void> {
    const bs = this.sb.blockSize;
    let goal = list[0]?.pblk ?? 0;
    const iBlock = Buffer.alloc(I_BLOCK_BYTES);
    // Old indirect blocks are reused in the order they were found, so an append rewrites
    // only the indirect blocks whose entries changed (rebuilding all would be quadratic).
    const pool = [...oldTree];
    const tree = await buildBlockMap(list, iBlock, bs, async () => {
      const reused = pool.shift();
      if (reused !== undefined) return reused;
      const r = await this.alloc.allocBlocks(goal, 1);
      goal = r.start + 1;
      return r.start;
    });
    // Bitmaps first (new data and indirect blocks), then the map, then the inode.
    await this.alloc.flush();
    for (const t of tree) {
      const old = oldTree.includes(t.block) ? await this.io.block(t.block, `inode ${inode.ino} indirect block`) : null;
      if (!old || !old.equals(t.data)) await this.io.write(t.block, t.data);
    }
    iBlock.copy(inode.iBlock);
    let dataBlocks = 0;
    for (const e of list) dataBlocks += e.len;
    inode.setBlocks512((dataBlocks + tree.length + (inode.fileAcl ? 1 : 0)) * (bs / 512));
    await this.save(inode);
    for (const b of pool) await this.alloc.freeBlocks(b, 1);
  }

  /** Rebuild the inode's tree from `list`: new tree blocks written before the inode, old ones freed after. */
  protected async commitExtents(inode: Inode, list: Extent[], oldTree: number[]): Promise<void> {
    if (!inode.hasFlag(INODE_FLAG.EXTENTS)) return this.commitBlockMap(inode, list, oldTree);
    const bs = this.sb.blockSize;
    const need = treeBlocksNeeded(list.length, bs);
    const blocks: number[] = [];
    const goal = list[0]?.pblk ?? this.gd.inodeTable(Math.floor((inode.ino - 1) / this.sb.inodesPerGroup));
    while (blocks.length < need) {
      const r = await this.alloc.allocBlocks(goal, need - blocks.length);
      for (let i = 0; i < r.len; i++) blocks.push(r.start + i);
    }
    const iBlock = Buffer.alloc(I_BLOCK_BYTES);
    const tree = buildTree(list, iBlock, blocks, bs);
    for (const t of tree) {
      const tail = extentTailOffset(t.data);
      if (this.sb.metadataCsum) t.data.writeUInt32LE(inodeCsum(this.sb.csumSeed, inode, t.data, tail), tail);
      await this.io.write(t.block, t.data);
      this.extCache.delete(t.block);
    }
    iBlock.copy(inode.iBlock);
    let dataBlocks = 0;
    for (const e of list) dataBlocks += e.len;
    inode.setBlocks512((dataBlocks + need + (inode.fileAcl ? 1 : 0)) * (bs / 512));
    inode.flags = inode.flags & ~INODE_FLAG.HUGE_FILE;
    await this.alloc.flush();
    await this.save(inode);
    for (const b of oldTree) {
      this.extCache.delete(b);
      await this.alloc.freeBlocks(b, 1);
    }
  }

  /** Allocate blocks for [lblk, lblk+len), returning runs (several if space is fragmented). */
  protected async allocRange(goal: number, len: number): Promise<{ start: number; len: number }[]> {
    const out: { start: number; len: number }[] = [];
    let left = len;
    let g = goal;
    while (left > 0) {
      const r = await this.alloc.allocBlocks(g, Math.min(left, 32768));
      out.push(r);
      left -= r.len;
      g = r.start + r.len;
    }
    return out;
  }

  // ---- directories ----

  protected async dirBlockFor(dir: Inode, lblk: number): Promise<{ pblk: number; buf: Buffer }> {
    const r = await this.fileMap(dir).map(lblk, 1);
    if (!r.pblk) throw corrupt(this.dev, `directory inode ${dir.ino}`, `hole at block ${lblk}`);
    return { pblk: r.pblk, buf: Buffer.from(await this.io.block(r.pblk, `directory inode ${dir.ino}`)) };
  }

  protected async writeDirBlock(dir: Inode, pblk: number, buf: Buffer): Promise<void> {
    if (this.sb.metadataCsum && hasDirTail(buf)) buf.writeUInt32LE(dirBlockCsum(this.sb.csumSeed, dir, buf), buf.length - 4);
    await this.io.write(pblk, buf);
    // Cached blocks change in place: what was verified or parsed may be stale.
    this.verifiedDirBlocks = new WeakSet();
    this.dxNodes = new WeakMap();
  }

  protected entriesOf(dir: Inode, buf: Buffer, lblk: number): RawDirent[] {
    return parseDirents(this.entryArea(buf), this.sb.has(INCOMPAT.FILETYPE), this.dev, `directory inode ${dir.ino} block ${lblk}`);
  }

  protected packDir(entries: PackEntry[]): Buffer {
    return packDirBlock(entries, this.sb.blockSize, this.sb.has(INCOMPAT.FILETYPE), this.sb.metadataCsum);
  }

  /** Lay out all xattrs: in the inode if they fit, else in one external block. */
  protected async storeXattrs(inode: Inode, list: Xattr[]): Promise<void> {
    const bs = this.sb.blockSize;
    const ibody = GOOD_OLD_INODE_SIZE + inode.extraIsize;
    const area = inode.raw.subarray(ibody);
    const oldBlock = inode.fileAcl;
    const inInode = this.sb.inodeSize > GOOD_OLD_INODE_SIZE && area.length > 8 && layoutEntries(area, 4, 4, list, false);
    if (inInode) {
      area.writeUInt32LE(list.length ? XATTR_MAGIC : 0, 0);
      if (!list.length) area.fill(0);
      inode.fileAcl = 0;
    } else {
      if (area.length >= 4) area.fill(0);
      const block = Buffer.alloc(bs);
      if (!layoutEntries(block, XATTR_BLOCK_HEADER, 0, list, true)) throw new FsError('ENOSPC', `${this.dev}: xattrs of inode ${inode.ino} do not fit in one block`);
      block.writeUInt32LE(XATTR_MAGIC, 0);
      block.writeUInt32LE(1, 4);
      block.writeUInt32LE(1, 8);
      block.writeUInt32LE(blockHash(block), 0xc);
      const [a] = await this.allocRange(this.gd.inodeTable(Math.floor((inode.ino - 1) / this.sb.inodesPerGroup)), 1);
      if (this.sb.metadataCsum) block.writeUInt32LE(xattrBlockCsum(this.sb.csumSeed, a!.start, block), 0x10);
      await this.io.write(a!.start, block);
      await this.alloc.flush();
      inode.fileAcl = a!.start;
    }
    const delta = (inode.fileAcl ? 1 : 0) - (oldBlock ? 1 : 0);
    inode.setBlocks512(inode.blocks512(false, bs) + delta * (bs / 512));
    this.touch(inode, 'ctime');
    await this.save(inode);
    if (oldBlock) await this.releaseXattrBlock(oldBlock);
    await this.writeSuper();
  }

  /** Drop one reference to an xattr block, freeing it at zero. */
  protected async releaseXattrBlock(block: number): Promise<void> {
    const buf = Buffer.from(await this.xattrBlock(block, 0));
    const refs = buf.readUInt32LE(4);
    if (refs > 1) {
      buf.writeUInt32LE(refs - 1, 4);
      if (this.sb.metadataCsum) buf.writeUInt32LE(xattrBlockCsum(this.sb.csumSeed, block, buf), 0x10);
      await this.io.write(block, buf);
    } else await this.alloc.freeBlocks(block, 1);
  }

}
