/**
 * The storage layer under the ext2/3/4 writer: owning and saving inodes, allocating and
 * freeing blocks, rebuilding a file's extent tree or block map, moving inline data out,
 * and xattr storage. It holds the reader (whose inode table and caches it keeps true), the
 * allocator, and the transactions that carry metadata to the disk. Ordering: data, then the
 * bitmaps and counts that allocate it, then the inode or tree that points at it; frees go the
 * other way (on disk without a journal; within a transaction with one, see transactions.ts).
 */
import { FsError } from '../errors.js';
import type { Timespec } from '../filesystem.js';
import { Allocator } from './alloc.js';
import { blockMapLimit, buildBlockMap, readBlockMapTree } from './block-map-write.js';
import { dirBlockCsum, inodeCsum, xattrBlockCsum } from './checksums.js';
import { INCOMPAT, INODE_FLAG, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from './constants.js';
import { dotEntries, packDirBlock, parseDirents, type PackEntry, type RawDirent } from './dirent.js';
import type { Ext4Fs } from './ext4fs.js';
import { buildTree, readExtentTree, treeBlocksNeeded, type Extent } from './extent-list.js';
import { extentTailOffset } from './extents.js';
import { inlineDirRegions, inlineFileData } from './inline.js';
import { GOOD_OLD_INODE_SIZE, I, I_BLOCK_BYTES, Inode, type TimeField } from './inode.js';
import { XATTR_DATA } from './inode-data.js';
import { JournalWriter } from './journal-writer.js';
import { Transactions } from './transactions.js';
import { blockHash, INDEX_SYSTEM, layoutEntries, XATTR_BLOCK_HEADER, XATTR_MAGIC, type Xattr } from './xattr.js';

const DEFAULT_EXTRA_ISIZE = 32;

/** Set the given times of an inode to now. */
export function touch(inode: Inode, ...fields: TimeField[]): void {
  const ms = Date.now();
  const t: Timespec = { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1e6 };
  for (const f of fields) inode.setTime(f, t);
}

export class Ext4Storage {
  readonly alloc: Allocator;
  /** Where metadata goes: in place, or through the journal once `useJournal` ran. */
  txn: Transactions;

  constructor(readonly fs: Ext4Fs) {
    this.alloc = new Allocator(fs.io, fs.sb, fs.gd);
    this.txn = new Transactions(fs.io, fs.sb, this.alloc, null, fs.warn);
  }

  private get dev(): string {
    return this.fs.io.name;
  }

  /** From now on metadata changes go through the filesystem's jbd2 journal, if it has one. */
  async useJournal(): Promise<void> {
    const { io, sb, inodes, warn } = this.fs;
    if (!sb.journalInum) return;
    const j = await inodes.get(sb.journalInum);
    const journal = await JournalWriter.open(io, inodes.fileMap(j), Math.floor(j.size / sb.blockSize));
    this.txn = new Transactions(io, sb, this.alloc, journal, warn);
  }

  /** Bitmaps, descriptors and the superblock's counts, after every change. */
  async writeSuper(): Promise<void> {
    await this.alloc.flush();
    await this.txn.putSuper();
  }

  // ---- inodes ----

  /** A private copy of a file or directory about to change its data: inline data moved out first. */
  async ownWritable(ino: number): Promise<Inode> {
    const inode = await this.fs.inodes.own(ino);
    if (inode.hasFlag(INODE_FLAG.INLINE_DATA)) {
      if (inode.type !== S_IFREG && inode.type !== S_IFDIR) throw new FsError('ENOTSUP', `${this.dev}: inode ${ino} keeps inline data of a special file`);
      await this.uninline(inode);
      return this.fs.inodes.own(ino);
    }
    return inode;
  }

  /**
   * Move inline data (i_block plus system.data) into one ordinary block: a file's bytes, or a
   * directory rebuilt as ".", ".." and its entries. Data first, then the inode, then the xattr.
   */
  private async uninline(inode: Inode): Promise<void> {
    const { io, sb, data, inodes } = this.fs;
    const bs = sb.blockSize;
    const extra = await data.inlineExtra(inode);
    let block: Buffer | null = null;
    if (inode.type === S_IFDIR) {
      const { parent, regions } = inlineDirRegions(inode, extra);
      const live: RawDirent[] = [];
      for (const r of regions) live.push(...parseDirents(r, sb.has(INCOMPAT.FILETYPE), this.dev, `inline directory inode ${inode.ino}`).filter((e) => e.ino !== 0));
      block = this.packDir([...dotEntries(inode.ino, parent), ...live]);
      inode.size = bs;
    } else if (inode.size > 0) {
      block = Buffer.alloc(bs);
      inlineFileData(inode, extra).copy(block);
    }
    inode.flags = (inode.flags & ~INODE_FLAG.INLINE_DATA) | INODE_FLAG.EXTENTS;
    let list: Extent[] = [];
    if (block) {
      const [a] = await this.allocRange(inodes.groupStart(inode.ino), 1);
      if (inode.type === S_IFDIR) {
        if (sb.metadataCsum) block.writeUInt32LE(dirBlockCsum(sb.csumSeed, inode, block), bs - 4);
        await io.write(a!.start, block);
      } else await io.writeData(a!.start, block);
      list = [{ lblk: 0, pblk: a!.start, len: 1, unwritten: false }];
    }
    await this.commitExtents(inode, list, []);
    const rest = (await data.xattrs(inode)).filter((x) => !(x.index === INDEX_SYSTEM && x.name === XATTR_DATA));
    await this.storeXattrs(inode, rest);
  }

  /** A new inode near its parent's group, not yet saved. */
  async newInode(parent: number, mode: number, uid: number, gid: number): Promise<Inode> {
    const sb = this.fs.sb;
    const dir = (mode & S_IFMT) === S_IFDIR;
    const group = Math.floor((parent - 1) / sb.inodesPerGroup);
    const ino = await this.alloc.allocInode(group, dir);
    const raw = Buffer.alloc(sb.inodeSize);
    if (sb.inodeSize > GOOD_OLD_INODE_SIZE) raw.writeUInt16LE(Math.min(sb.wantExtraIsize || DEFAULT_EXTRA_ISIZE, sb.inodeSize - GOOD_OLD_INODE_SIZE), I.extraIsize);
    raw.writeUInt32LE((Math.random() * 2 ** 32) >>> 0, I.generation);
    const inode = new Inode(ino, raw);
    inode.mode = mode;
    inode.uid = uid;
    inode.gid = gid;
    inode.links = 1;
    touch(inode, 'atime', 'mtime', 'ctime', 'crtime');
    const type = mode & S_IFMT;
    if ((type === S_IFREG || type === S_IFDIR) && sb.has(INCOMPAT.EXTENTS)) {
      inode.flags = INODE_FLAG.EXTENTS;
      buildTree([], inode.iBlock, [], sb.blockSize);
    }
    return inode;
  }

  /** Largest size the inode's mapping can hold. */
  maxBytes(inode: Inode): number {
    const bs = this.fs.sb.blockSize;
    return (inode.hasFlag(INODE_FLAG.EXTENTS) ? 2 ** 32 : Math.min(2 ** 32, blockMapLimit(bs))) * bs;
  }

  // ---- extent trees and blocks ----

  /** A file's extents and the tree (or indirect) blocks that hold them. */
  async mapping(inode: Inode): Promise<{ extents: Extent[]; treeBlocks: number[] }> {
    const io = this.fs.io;
    if (inode.hasFlag(INODE_FLAG.INLINE_DATA)) return { extents: [], treeBlocks: [] };
    if (inode.hasFlag(INODE_FLAG.EXTENTS)) return readExtentTree(io, inode.iBlock, inode.ino);
    if (inode.type === S_IFREG || inode.type === S_IFDIR || (inode.type === S_IFLNK && !this.fs.isFastSymlink(inode))) {
      return readBlockMapTree(io, inode.iBlock, inode.ino);
    }
    return { extents: [], treeBlocks: [] };
  }

  /** Rebuild an ext2/ext3 block map from `list`, like `commitExtents` does for trees. */
  private async commitBlockMap(inode: Inode, list: Extent[], oldTree: number[]): Promise<void> {
    const io = this.fs.io;
    const bs = this.fs.sb.blockSize;
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
      const old = oldTree.includes(t.block) ? await io.block(t.block, `inode ${inode.ino} indirect block`) : null;
      if (!old || !old.equals(t.data)) await io.write(t.block, t.data);
    }
    iBlock.copy(inode.iBlock);
    let dataBlocks = 0;
    for (const e of list) dataBlocks += e.len;
    inode.setBlocks512((dataBlocks + tree.length + (inode.fileAcl ? 1 : 0)) * (bs / 512));
    await this.fs.inodes.save(inode);
    for (const b of pool) await this.alloc.freeBlocks(b, 1);
  }

  /** Rebuild the inode's tree from `list`: new tree blocks written before the inode, old ones freed after. */
  async commitExtents(inode: Inode, list: Extent[], oldTree: number[]): Promise<void> {
    if (!inode.hasFlag(INODE_FLAG.EXTENTS)) return this.commitBlockMap(inode, list, oldTree);
    const { io, sb, inodes } = this.fs;
    const bs = sb.blockSize;
    const need = treeBlocksNeeded(list.length, bs);
    const blocks: number[] = [];
    const goal = list[0]?.pblk ?? inodes.groupStart(inode.ino);
    while (blocks.length < need) {
      const r = await this.alloc.allocBlocks(goal, need - blocks.length);
      for (let i = 0; i < r.len; i++) blocks.push(r.start + i);
    }
    const iBlock = Buffer.alloc(I_BLOCK_BYTES);
    const tree = buildTree(list, iBlock, blocks, bs);
    for (const t of tree) {
      const tail = extentTailOffset(t.data);
      if (sb.metadataCsum) t.data.writeUInt32LE(inodeCsum(sb.csumSeed, inode, t.data, tail), tail);
      await io.write(t.block, t.data);
      inodes.extCache.delete(t.block);
    }
    iBlock.copy(inode.iBlock);
    let dataBlocks = 0;
    for (const e of list) dataBlocks += e.len;
    inode.setBlocks512((dataBlocks + need + (inode.fileAcl ? 1 : 0)) * (bs / 512));
    inode.flags = inode.flags & ~INODE_FLAG.HUGE_FILE;
    await this.alloc.flush();
    await inodes.save(inode);
    await this.freeTreeBlocks(oldTree);
  }

  /** Free extent-tree or indirect blocks, forgetting their parsed copies. */
  async freeTreeBlocks(blocks: number[]): Promise<void> {
    for (const b of blocks) {
      this.fs.inodes.extCache.delete(b);
      await this.alloc.freeBlocks(b, 1);
    }
  }

  /** Allocate `len` blocks near `goal`, as runs (several if space is fragmented). */
  async allocRange(goal: number, len: number): Promise<{ start: number; len: number }[]> {
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

  /** A directory block holding `entries`, with a checksum tail if the filesystem has them. */
  packDir(entries: PackEntry[]): Buffer {
    const sb = this.fs.sb;
    return packDirBlock(entries, sb.blockSize, sb.has(INCOMPAT.FILETYPE), sb.metadataCsum);
  }

  // ---- xattrs ----

  /** Lay out all xattrs: in the inode if they fit, else in one external block. */
  async storeXattrs(inode: Inode, list: Xattr[]): Promise<void> {
    const { io, sb, inodes } = this.fs;
    const bs = sb.blockSize;
    const ibody = GOOD_OLD_INODE_SIZE + inode.extraIsize;
    const area = inode.raw.subarray(ibody);
    const oldBlock = inode.fileAcl;
    const inInode = sb.inodeSize > GOOD_OLD_INODE_SIZE && area.length > 8 && layoutEntries(area, 4, 4, list, false);
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
      const [a] = await this.allocRange(inodes.groupStart(inode.ino), 1);
      if (sb.metadataCsum) block.writeUInt32LE(xattrBlockCsum(sb.csumSeed, a!.start, block), 0x10);
      await io.write(a!.start, block);
      await this.alloc.flush();
      inode.fileAcl = a!.start;
    }
    const delta = (inode.fileAcl ? 1 : 0) - (oldBlock ? 1 : 0);
    inode.setBlocks512(inode.blocks512(false, bs) + delta * (bs / 512));
    touch(inode, 'ctime');
    await inodes.save(inode);
    if (oldBlock) await this.releaseXattrBlock(oldBlock);
    await this.writeSuper();
  }

  /** Drop one reference to an xattr block, freeing it at zero. */
  async releaseXattrBlock(block: number): Promise<void> {
    const sb = this.fs.sb;
    const buf = Buffer.from(await this.fs.data.xattrBlock(block, 0));
    const refs = buf.readUInt32LE(4);
    if (refs > 1) {
      buf.writeUInt32LE(refs - 1, 4);
      if (sb.metadataCsum) buf.writeUInt32LE(xattrBlockCsum(sb.csumSeed, block, buf), 0x10);
      await this.fs.io.write(block, buf);
    } else await this.alloc.freeBlocks(block, 1);
  }
}
