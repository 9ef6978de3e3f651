/**
 * Changing directories: adding an entry (linear, or htree with leaf and index-node splits;
 * linear again only if the index is damaged or cannot grow), removing one, and pointing ".."
 * elsewhere. Every block written here gets its checksum tail, and the reader's caches of
 * verified and parsed blocks are dropped.
 */
import { corrupt, FsError } from '../errors.js';
import { fileTypeOf, INCOMPAT, INODE_FLAG } from './constants.js';
import { crc32cU32 } from './crc32c.js';
import { dirBlockCsum } from './checksums.js';
import { direntSize, dotEntries, hasDirTail, recLenToDisk, writeDirent } from './dirent.js';
import { touch, type Ext4Storage } from './ext4-storage.js';
import { setRange } from './extent-list.js';
import { dxCountOffset, dxCsum, dxFind, dxInsert, dxLeaves, dxNewNode, dxPairs, dxSetCount, dxSetLevels, nameHash, nullIfDamaged, parseDxNode, type DxLookup } from './htree.js';
import type { Inode } from './inode.js';

interface NewEntry {
  ino: number;
  name: Buffer;
  fileType: number;
}

export class DirWriter {
  constructor(private readonly store: Ext4Storage) {}

  private get fs() {
    return this.store.fs;
  }

  private get dev(): string {
    return this.fs.io.name;
  }

  /** A private copy of a directory block, with its physical number. */
  private async blockFor(dir: Inode, lblk: number): Promise<{ pblk: number; buf: Buffer }> {
    const r = await this.fs.inodes.fileMap(dir).map(lblk, 1);
    if (!r.pblk) throw corrupt(this.dev, `directory inode ${dir.ino}`, `hole at block ${lblk}`);
    return { pblk: r.pblk, buf: Buffer.from(await this.fs.io.block(r.pblk, `directory inode ${dir.ino}`)) };
  }

  /** Write a directory block, its checksum tail set. */
  async writeBlock(dir: Inode, pblk: number, buf: Buffer): Promise<void> {
    const sb = this.fs.sb;
    if (sb.metadataCsum && hasDirTail(buf)) buf.writeUInt32LE(dirBlockCsum(sb.csumSeed, dir, buf), buf.length - 4);
    await this.fs.io.write(pblk, buf);
    this.fs.dirs.changed();
  }

  /** Try to put an entry into one block; true when it fit. */
  private tryInsert(dir: Inode, buf: Buffer, lblk: number, add: NewEntry): boolean {
    const need = direntSize(add.name.length);
    const ft = this.fs.sb.has(INCOMPAT.FILETYPE);
    for (const e of this.fs.dirs.blockEntries(dir, buf, lblk)) {
      if (e.ino === 0 && e.recLen >= need) {
        writeDirent(buf, e.offset, add.ino, add.name, add.fileType, e.recLen, ft);
        return true;
      }
      const used = direntSize(e.name.length);
      if (e.ino !== 0 && e.recLen - used >= need) {
        buf.writeUInt16LE(recLenToDisk(used), e.offset + 4);
        writeDirent(buf, e.offset + used, add.ino, add.name, add.fileType, e.recLen - used, ft);
        return true;
      }
    }
    return false;
  }

  /** Write a block whose entries changed, and the directory's new times. */
  private async entryChanged(dir: Inode, b: { pblk: number; buf: Buffer }): Promise<void> {
    await this.writeBlock(dir, b.pblk, b.buf);
    touch(dir, 'mtime', 'ctime');
    await this.fs.inodes.save(dir);
  }

  async addEntry(dirIno: number, name: string, ino: number, mode: number, mayGrow = true): Promise<void> {
    const sb = this.fs.sb;
    let dir = await this.store.ownWritable(dirIno);
    const add: NewEntry = { ino, name: Buffer.from(name, 'utf8'), fileType: fileTypeOf(mode) };
    const nBlocks = this.fs.dirs.blockCount(dir);
    if (dir.hasFlag(INODE_FLAG.INDEX)) {
      const root = await this.blockFor(dir, 0);
      const look = await dxLeaves(root.buf, sb.metadataCsum, sb.has(INCOMPAT.LARGEDIR) ? 3 : 2, nBlocks,
        (info) => nameHash(info, sb.unsignedHash, sb.hashSeed, add.name), async (l) => (await this.blockFor(dir, l)).buf).catch(nullIfDamaged);
      if (look) {
        const leaf = look.leaves[0]!;
        const b = await this.blockFor(dir, leaf);
        if (this.tryInsert(dir, b.buf, leaf, add)) return this.entryChanged(dir, b);
        if (await this.splitLeaf(dir, look, leaf, b, add, nBlocks)) return;
        // The index node is full: grow the index by a node (or a level), then try again.
        if (mayGrow && (await this.growIndex(dir, look, nBlocks))) return this.addEntry(dirIno, name, ino, mode, false);
      }
      // A damaged index, or one that cannot grow further here: go linear.
      await this.dropIndex(dir, nBlocks);
      dir = await this.fs.inodes.own(dirIno);
    }
    for (let lblk = 0; lblk < nBlocks; lblk++) {
      const b = await this.blockFor(dir, lblk);
      if (this.tryInsert(dir, b.buf, lblk, add)) return this.entryChanged(dir, b);
    }
    // No room: a new block at the end.
    touch(dir, 'mtime', 'ctime');
    const last = await this.fs.inodes.fileMap(dir).map(Math.max(0, nBlocks - 1), 1);
    await this.appendBlock(dir, nBlocks, this.store.packDir([add]), last.pblk ? last.pblk + 1 : 0);
  }

  /**
   * Split a full htree leaf by hash: the upper half moves to a new block at the end of the
   * directory, indexed right after the old leaf. False when the index node has no room.
   */
  private async splitLeaf(dir: Inode, look: DxLookup, leafLblk: number, leaf: { pblk: number; buf: Buffer }, add: NewEntry, nBlocks: number): Promise<boolean> {
    const sb = this.fs.sb;
    const { node, index, lblk: nodeLblk } = look.bottom;
    if (node.count >= node.limit) return false;
    const hashOf = (n: Buffer): number => nameHash(look.info, sb.unsignedHash, sb.hashSeed, n);
    const all: (NewEntry & { hash: number })[] = this.fs.dirs.blockEntries(dir, leaf.buf, leafLblk).filter((e) => e.ino !== 0).map((e) => ({ ino: e.ino, name: Buffer.from(e.name), fileType: e.fileType, hash: hashOf(e.name) }));
    all.push({ ...add, hash: look.hash });
    all.sort((a, b) => a.hash - b.hash);
    // Split by bytes, so both halves fit whatever the name lengths.
    const total = all.reduce((n, e) => n + direntSize(e.name.length), 0);
    let mid = 0;
    for (let used = 0; mid < all.length - 1 && used + direntSize(all[mid]!.name.length) <= total / 2; mid++) used += direntSize(all[mid]!.name.length);
    if (mid === 0) mid = 1;
    const splitHash = all[mid]!.hash;
    // Equal hashes on both sides: the new index entry marks a continuation (low bit set).
    const continued = all[mid - 1]!.hash === splitHash ? 1 : 0;
    touch(dir, 'mtime', 'ctime');
    await this.appendBlock(dir, nBlocks, this.store.packDir(all.slice(mid)), leaf.pblk);
    const idx = await this.blockFor(dir, nodeLblk);
    dxInsert(idx.buf, nodeLblk === 0, index + 1, splitHash + continued, nBlocks);
    await this.writeDxNode(dir, idx.pblk, idx.buf, nodeLblk === 0);
    await this.writeBlock(dir, leaf.pblk, this.store.packDir(all.slice(0, mid)));
    return true;
  }

  /** Write an index node with its metadata_csum tail. */
  private async writeDxNode(dir: Inode, pblk: number, buf: Buffer, root: boolean): Promise<void> {
    const sb = this.fs.sb;
    if (sb.metadataCsum) {
      const seed = crc32cU32(crc32cU32(sb.csumSeed, dir.ino), dir.generation);
      buf.writeUInt32LE(dxCsum(seed, buf, root), buf.length - 4);
    }
    await this.writeBlock(dir, pblk, buf);
  }

  /** Append one block to a directory (written first) and map it. */
  private async appendBlock(dir: Inode, nBlocks: number, data: Buffer, goal: number): Promise<void> {
    const { extents, treeBlocks } = await this.store.mapping(dir);
    const [a] = await this.store.allocRange(goal, 1);
    await this.writeBlock(dir, a!.start, data);
    dir.size = dir.size + this.fs.sb.blockSize;
    await this.store.commitExtents(dir, setRange(extents, nBlocks, 1, a!.start), treeBlocks);
  }

  /**
   * Make room in a full index: a full root with no levels below gets one (its entries move to
   * a new node); a full node under a root with room is split in two. False otherwise.
   */
  private async growIndex(dir: Inode, look: DxLookup, nBlocks: number): Promise<boolean> {
    const csum = this.fs.sb.metadataCsum;
    const bs = this.fs.sb.blockSize;
    const root = await this.blockFor(dir, 0);
    const rootNode = parseDxNode(root.buf, true, csum, nBlocks);
    if (!rootNode) return false;
    if (look.info.levels === 0) {
      await this.appendBlock(dir, nBlocks, dxNewNode(bs, csum, dxPairs(root.buf, true, 0, rootNode.count)), root.pblk);
      const fresh = (await this.blockFor(dir, 0)).buf;
      dxSetCount(fresh, true, 1);
      fresh.writeUInt32LE(nBlocks, dxCountOffset(true) + 4);
      dxSetLevels(fresh, 1);
      await this.writeDxNode(dir, root.pblk, fresh, true);
      return true;
    }
    if (look.info.levels !== 1 || rootNode.count >= rootNode.limit) return false;
    const { node, lblk } = look.bottom;
    const mid = Math.floor(node.count / 2);
    const upper = dxPairs((await this.blockFor(dir, lblk)).buf, false, mid, node.count);
    const splitHash = node.hashes[mid]!;
    await this.appendBlock(dir, nBlocks, dxNewNode(bs, csum, upper), root.pblk);
    const lower = await this.blockFor(dir, lblk);
    dxSetCount(lower.buf, false, mid);
    await this.writeDxNode(dir, lower.pblk, lower.buf, false);
    const fresh = (await this.blockFor(dir, 0)).buf;
    dxInsert(fresh, true, dxFind(rootNode, look.hash) + 1, splitHash, nBlocks);
    await this.writeDxNode(dir, root.pblk, fresh, true);
    return true;
  }

  /** Turn an htree directory into a linear one: index blocks become empty entry blocks. */
  private async dropIndex(dir: Inode, nBlocks: number): Promise<void> {
    const bs = this.fs.sb.blockSize;
    const csum = this.fs.sb.metadataCsum;
    for (let lblk = 0; lblk < nBlocks; lblk++) {
      const b = await this.blockFor(dir, lblk);
      const firstIno = b.buf.readUInt32LE(0);
      const firstLen = b.buf.readUInt16LE(4);
      const isNode = firstIno === 0 && (firstLen === (bs === 65536 ? 65535 : bs) || firstLen === 0);
      if (lblk === 0) {
        await this.writeBlock(dir, b.pblk, this.store.packDir(dotEntries(b.buf.readUInt32LE(0), b.buf.readUInt32LE(12))));
      } else if (isNode && csum) {
        await this.writeBlock(dir, b.pblk, this.store.packDir([]));
      }
    }
    dir.flags = dir.flags & ~INODE_FLAG.INDEX;
    await this.fs.inodes.save(dir);
  }

  /** Remove the entry `name` from a directory; returns the inode it named. */
  async removeEntry(dirIno: number, name: string): Promise<number> {
    const dir = await this.store.ownWritable(dirIno);
    const nm = Buffer.from(name, 'utf8');
    const n = this.fs.dirs.blockCount(dir);
    for (let lblk = 0; lblk < n; lblk++) {
      const b = await this.blockFor(dir, lblk);
      // htree index blocks hold no live entries: an index node is one empty entry.
      const entries = this.fs.dirs.blockEntries(dir, b.buf, lblk).filter((e) => !(lblk === 0 && dir.hasFlag(INODE_FLAG.INDEX) && e.offset > 12));
      const i = entries.findIndex((e) => e.ino !== 0 && e.name.equals(nm));
      if (i < 0) continue;
      const e = entries[i]!;
      const prev = entries[i - 1];
      if (prev) b.buf.writeUInt16LE(recLenToDisk(prev.recLen + e.recLen), prev.offset + 4);
      else b.buf.writeUInt32LE(0, e.offset);
      await this.entryChanged(dir, b);
      return e.ino;
    }
    throw new FsError('ENOENT', `${this.dev}: no entry ${JSON.stringify(name)} in directory inode ${dirIno}`);
  }

  /** Point a moved directory's ".." at its new parent. */
  async setDotDot(moved: number, parent: number): Promise<void> {
    const dir = await this.store.ownWritable(moved);
    const b = await this.blockFor(dir, 0);
    const dotdot = this.fs.dirs.blockEntries(dir, b.buf, 0)[1];
    if (!dotdot || dotdot.name.toString('latin1') !== '..') throw corrupt(this.dev, `directory inode ${dir.ino}`, 'no ".." entry');
    b.buf.writeUInt32LE(parent, dotdot.offset);
    await this.writeBlock(dir, b.pblk, b.buf);
  }
}
