/**
 * Writes for ext2/3/4 (extent trees or block maps): files, directories (linear, or htree with
 * leaf and index-node splits; linear again only if the index is damaged or cannot grow),
 * links, symlinks, device nodes, attributes and xattrs, with
 * metadata_csum checksums. With a jbd2 journal, the metadata of a batch of operations is
 * committed as one transaction (transactions.ts), so a crash leaves the last committed state.
 * Without one the writes are ordered: data, then the bitmaps and counts that allocate it, then
 * the inode or tree that points at it, then the directory entry; frees go the other way, so a
 * crash leaves at worst leaked blocks or link counts that e2fsck repairs without loss.
 */
import type { BlockDevice } from '../../disk/block-device.js';
import { corrupt, FsError } from '../errors.js';
import type { Attr, FsOpenOptions, Timespec } from '../filesystem.js';
import { aclToDisk } from './acl.js';
import { fileTypeOf, INCOMPAT, INODE_FLAG, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, S_IFBLK, S_IFCHR, S_IFIFO, S_IFSOCK } from './constants.js';
import { crc32cU32 } from './crc32c.js';
import { direntSize, dotEntries, recLenToDisk, writeDirent } from './dirent.js';
import { Ext4Fs } from './ext4fs.js';
import { Ext4Storage, type OpenedParts } from './ext4-storage.js';
import { buildTree, runsOf, setRange, type Extent } from './extent-list.js';
import { dxCountOffset, dxCsum, dxFind, dxInsert, dxLeaves, dxNewNode, dxPairs, dxSetCount, dxSetLevels, nameHash, nullIfDamaged, parseDxNode, type DxLookup } from './htree.js';
import { I_BLOCK_BYTES, type Inode } from './inode.js';
import { INDEX_ACL_ACCESS, INDEX_ACL_DEFAULT, splitName } from './xattr.js';

const MAX_LINKS = 65000;
const XATTR_CREATE = 1;
const XATTR_REPLACE = 2;
/** Blocks written at once when filling newly allocated space. */
const WRITE_CHUNK_BLOCKS = 256;

export class Ext4Writer extends Ext4Storage {
  private constructor(p: OpenedParts) {
    super(p);
  }

  /** Was the filesystem clean when opened? Then close() marks it clean again. */
  private wasClean = false;

  static async openWritable(dev: BlockDevice, opts: FsOpenOptions = {}): Promise<Ext4Writer> {
    const w = new Ext4Writer(await Ext4Fs.openParts(dev, { ...opts, writable: true }));
    w.wasClean = w.sb.markMounted(Math.floor(Date.now() / 1000));
    await w.fsync();
    await w.useJournal();
    return w;
  }

  /** Test hook: the next commit stops (throws) before its checkpoint, leaving a log to replay. */
  stopAfterCommit(): void {
    this.txn.afterCommit = () => Promise.reject(new FsError('EIO', `${this.dev}: stopped after commit (test)`));
  }

  /** Between operations (the lock calls it): the journal may commit the batch so far; when it waits, for how long. */
  afterChange(): Promise<number | undefined> {
    return this.txn.settle();
  }

  override async close(): Promise<void> {
    if (this.wasClean) this.sb.markUnmounted();
    await super.close();
  }

  // ---- file data ----

  override async write(ino: number, offset: number, data: Uint8Array): Promise<number> {
    const inode = await this.ownWritable(ino);
    if (inode.type !== S_IFREG) throw new FsError(inode.type === S_IFDIR ? 'EISDIR' : 'EINVAL', `${this.dev}: inode ${ino} is not a regular file`);
    if (data.length === 0) return 0;
    const bs = this.sb.blockSize;
    const end = offset + data.length;
    if (!Number.isSafeInteger(offset) || offset < 0 || end > this.maxBytes(inode)) throw new FsError('EFBIG', `${this.dev}: write past the largest file size`);
    const src = Buffer.from(data.buffer, data.byteOffset, data.length);
    const mapped = await this.mapping(inode);
    let extents = mapped.extents;
    const first = Math.floor(offset / bs);
    const last = Math.ceil(end / bs);
    // Build the new contents of a run of blocks starting at lblk: old bytes where the write
    // does not reach (zeros for new or unwritten blocks), the written bytes elsewhere.
    const fill = async (lblk: number, n: number, oldPblk: number): Promise<Buffer> => {
      const buf = Buffer.alloc(n * bs);
      const runStart = lblk * bs;
      const from = Math.max(offset, runStart);
      const to = Math.min(end, runStart + n * bs);
      if (oldPblk) {
        // Edge blocks keep their old bytes outside the written range.
        if (from > runStart) (await this.io.readBlocks(oldPblk, 1)).copy(buf, 0);
        if (to < runStart + n * bs) (await this.io.readBlocks(oldPblk + n - 1, 1)).copy(buf, (n - 1) * bs);
      }
      src.copy(buf, from - runStart, from - offset, to - offset);
      return buf;
    };
    let goal = extents[extents.length - 1] ? extents[extents.length - 1]!.pblk + extents[extents.length - 1]!.len : this.gd.inodeTable(Math.floor((ino - 1) / this.sb.inodesPerGroup));
    for (const r of runsOf(extents, first, last - first)) {
      for (let done = 0; done < r.len;) {
        const n = Math.min(WRITE_CHUNK_BLOCKS, r.len - done);
        const lblk = r.lblk + done;
        if (r.pblk && !r.unwritten) {
          await this.io.writeData(r.pblk + done, await fill(lblk, n, r.pblk + done));
          done += n;
          continue;
        }
        if (r.pblk) {
          // Unwritten (preallocated) blocks: write them whole, then mark them written.
          await this.io.writeData(r.pblk + done, await fill(lblk, n, 0));
          extents = setRange(extents, lblk, n, r.pblk + done);
          done += n;
          continue;
        }
        // A hole: allocate (in pieces if space is fragmented) and write the new blocks.
        let l = lblk;
        for (const a of await this.allocRange(goal, n)) {
          await this.io.writeData(a.start, await fill(l, a.len, 0));
          extents = setRange(extents, l, a.len, a.start);
          goal = a.start + a.len;
          l += a.len;
        }
        done += n;
      }
    }
    inode.size = Math.max(inode.size, end);
    this.touch(inode, 'mtime', 'ctime');
    await this.commitExtents(inode, extents, mapped.treeBlocks);
    await this.writeSuper();
    return data.length;
  }

  override async truncate(ino: number, size: number): Promise<void> {
    const inode = await this.ownWritable(ino);
    if (inode.type !== S_IFREG) throw new FsError(inode.type === S_IFDIR ? 'EISDIR' : 'EINVAL', `${this.dev}: inode ${ino} is not a regular file`);
    const bs = this.sb.blockSize;
    if (!Number.isSafeInteger(size) || size < 0 || size > this.maxBytes(inode)) throw new FsError('EFBIG', `${this.dev}: size ${size} too large`);
    const { extents, treeBlocks } = await this.mapping(inode);
    let list = extents;
    const freed: Extent[] = [];
    if (size < inode.size) {
      const keep = Math.ceil(size / bs);
      for (const r of runsOf(list, keep, 2 ** 32 - keep)) if (r.pblk) freed.push({ lblk: r.lblk, pblk: r.pblk, len: r.len, unwritten: !!r.unwritten });
      list = setRange(list, keep, 2 ** 32 - keep, 0);
      // The rest of the last block must read as zeros if the file grows again.
      const tail = runsOf(list, Math.floor(size / bs), 1)[0]!;
      if (size % bs && tail.pblk && !tail.unwritten) {
        const b = Buffer.from(await this.io.readBlocks(tail.pblk, 1));
        b.fill(0, size % bs);
        // Through the journal with the size, so a crash cannot leave the old size with a zeroed tail.
        await this.io.write(tail.pblk, b);
      }
    }
    inode.size = size;
    this.touch(inode, 'mtime', 'ctime');
    await this.commitExtents(inode, list, treeBlocks);
    for (const f of freed) await this.alloc.freeBlocks(f.pblk, f.len);
    await this.writeSuper();
  }

  // ---- directories ----

  /** Try to put an entry into one block; true when it fit. */
  private tryInsert(dir: Inode, buf: Buffer, lblk: number, name: Buffer, ino: number, ftype: number): boolean {
    const need = direntSize(name.length);
    const ft = this.sb.has(INCOMPAT.FILETYPE);
    for (const e of this.entriesOf(dir, buf, lblk)) {
      if (e.ino === 0 && e.recLen >= need) {
        writeDirent(buf, e.offset, ino, name, ftype, e.recLen, ft);
        return true;
      }
      const used = direntSize(e.name.length);
      if (e.ino !== 0 && e.recLen - used >= need) {
        buf.writeUInt16LE(recLenToDisk(used), e.offset + 4);
        writeDirent(buf, e.offset + used, ino, name, ftype, e.recLen - used, ft);
        return true;
      }
    }
    return false;
  }

  private async addEntry(dirIno: number, name: string, ino: number, mode: number, mayGrow = true): Promise<void> {
    let dir = await this.ownWritable(dirIno);
    const nm = Buffer.from(name, 'utf8');
    const ftype = fileTypeOf(mode);
    const nBlocks = this.dirBlockCount(dir);
    if (dir.hasFlag(INODE_FLAG.INDEX)) {
      const root = await this.dirBlockFor(dir, 0);
      const look = await dxLeaves(root.buf, this.sb.metadataCsum, this.sb.has(INCOMPAT.LARGEDIR) ? 3 : 2, nBlocks,
        (info) => nameHash(info, this.sb.unsignedHash, this.sb.hashSeed, nm), async (l) => (await this.dirBlockFor(dir, l)).buf).catch(nullIfDamaged);
      if (look) {
        const leaf = look.leaves[0]!;
        const b = await this.dirBlockFor(dir, leaf);
        if (this.tryInsert(dir, b.buf, leaf, nm, ino, ftype)) {
          await this.writeDirBlock(dir, b.pblk, b.buf);
          this.touch(dir, 'mtime', 'ctime');
          await this.save(dir);
          return;
        }
        if (await this.splitLeaf(dir, look, leaf, b, { ino, name: nm, fileType: ftype }, nBlocks)) return;
        // The index node is full: grow the index by a node (or a level), then try again.
        if (mayGrow && (await this.growIndex(dir, look, nBlocks))) return this.addEntry(dirIno, name, ino, mode, false);
      }
      // A damaged index, or one that cannot grow further here: go linear.
      await this.dropIndex(dir, nBlocks);
      dir = await this.own(dirIno);
    }
    for (let lblk = 0; lblk < nBlocks; lblk++) {
      const b = await this.dirBlockFor(dir, lblk);
      if (this.tryInsert(dir, b.buf, lblk, nm, ino, ftype)) {
        await this.writeDirBlock(dir, b.pblk, b.buf);
        this.touch(dir, 'mtime', 'ctime');
        await this.save(dir);
        return;
      }
    }
    // No room: a new block at the end.
    this.touch(dir, 'mtime', 'ctime');
    const last = await this.fileMap(dir).map(Math.max(0, nBlocks - 1), 1);
    await this.appendDirBlock(dir, nBlocks, this.packDir([{ ino, name: nm, fileType: ftype }]), last.pblk ? last.pblk + 1 : 0);
  }

  /**
   * Split a full htree leaf by hash: the upper half moves to a new block at the end of the
   * directory, indexed right after the old leaf. False when the index node has no room.
   */
  private async splitLeaf(dir: Inode, look: DxLookup, leafLblk: number, leaf: { pblk: number; buf: Buffer }, add: { ino: number; name: Buffer; fileType: number }, nBlocks: number): Promise<boolean> {
    const { node, index, lblk: nodeLblk } = look.bottom;
    if (node.count >= node.limit) return false;
    const hashOf = (n: Buffer): number => nameHash(look.info, this.sb.unsignedHash, this.sb.hashSeed, n);
    const all: { ino: number; name: Buffer; fileType: number; hash: number }[] = this.entriesOf(dir, leaf.buf, leafLblk).filter((e) => e.ino !== 0).map((e) => ({ ino: e.ino, name: Buffer.from(e.name), fileType: e.fileType, hash: hashOf(e.name) }));
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
    this.touch(dir, 'mtime', 'ctime');
    await this.appendDirBlock(dir, nBlocks, this.packDir(all.slice(mid)), leaf.pblk);
    const idx = await this.dirBlockFor(dir, nodeLblk);
    dxInsert(idx.buf, nodeLblk === 0, index + 1, splitHash + continued, nBlocks);
    await this.writeDxNode(dir, idx.pblk, idx.buf, nodeLblk === 0);
    await this.writeDirBlock(dir, leaf.pblk, this.packDir(all.slice(0, mid)));
    return true;
  }

  /** Write an index node with its metadata_csum tail. */
  private async writeDxNode(dir: Inode, pblk: number, buf: Buffer, root: boolean): Promise<void> {
    if (this.sb.metadataCsum) {
      const seed = crc32cU32(crc32cU32(this.sb.csumSeed, dir.ino), dir.generation);
      buf.writeUInt32LE(dxCsum(seed, buf, root), buf.length - 4);
    }
    await this.writeDirBlock(dir, pblk, buf);
  }

  /** Append one block to a directory (written first) and map it. */
  private async appendDirBlock(dir: Inode, nBlocks: number, data: Buffer, goal: number): Promise<void> {
    const { extents, treeBlocks } = await this.mapping(dir);
    const [a] = await this.allocRange(goal, 1);
    await this.writeDirBlock(dir, a!.start, data);
    dir.size = dir.size + this.sb.blockSize;
    await this.commitExtents(dir, setRange(extents, nBlocks, 1, a!.start), treeBlocks);
  }

  /**
   * Make room in a full index: a full root with no levels below gets one (its entries move to
   * a new node); a full node under a root with room is split in two. False otherwise.
   */
  private async growIndex(dir: Inode, look: DxLookup, nBlocks: number): Promise<boolean> {
    const csum = this.sb.metadataCsum;
    const bs = this.sb.blockSize;
    const root = await this.dirBlockFor(dir, 0);
    const rootNode = parseDxNode(root.buf, true, csum, nBlocks);
    if (!rootNode) return false;
    if (look.info.levels === 0) {
      await this.appendDirBlock(dir, nBlocks, dxNewNode(bs, csum, dxPairs(root.buf, true, 0, rootNode.count)), root.pblk);
      const fresh = (await this.dirBlockFor(dir, 0)).buf;
      dxSetCount(fresh, true, 1);
      fresh.writeUInt32LE(nBlocks, dxCountOffset(true) + 4);
      dxSetLevels(fresh, 1);
      await this.writeDxNode(dir, root.pblk, fresh, true);
      return true;
    }
    if (look.info.levels !== 1 || rootNode.count >= rootNode.limit) return false;
    const { node, lblk } = look.bottom;
    const mid = Math.floor(node.count / 2);
    const upper = dxPairs((await this.dirBlockFor(dir, lblk)).buf, false, mid, node.count);
    const splitHash = node.hashes[mid]!;
    await this.appendDirBlock(dir, nBlocks, dxNewNode(bs, csum, upper), root.pblk);
    const lower = await this.dirBlockFor(dir, lblk);
    dxSetCount(lower.buf, false, mid);
    await this.writeDxNode(dir, lower.pblk, lower.buf, false);
    const fresh = (await this.dirBlockFor(dir, 0)).buf;
    dxInsert(fresh, true, dxFind(rootNode, look.hash) + 1, splitHash, nBlocks);
    await this.writeDxNode(dir, root.pblk, fresh, true);
    return true;
  }

  /** Turn an htree directory into a linear one: index blocks become empty entry blocks. */
  private async dropIndex(dir: Inode, nBlocks: number): Promise<void> {
    const bs = this.sb.blockSize;
    const csum = this.sb.metadataCsum;
    for (let lblk = 0; lblk < nBlocks; lblk++) {
      const b = await this.dirBlockFor(dir, lblk);
      const firstIno = b.buf.readUInt32LE(0);
      const firstLen = b.buf.readUInt16LE(4);
      const isNode = firstIno === 0 && (firstLen === (bs === 65536 ? 65535 : bs) || firstLen === 0);
      if (lblk === 0) {
        await this.writeDirBlock(dir, b.pblk, this.packDir(dotEntries(b.buf.readUInt32LE(0), b.buf.readUInt32LE(12))));
      } else if (isNode && csum) {
        await this.writeDirBlock(dir, b.pblk, this.packDir([]));
      }
    }
    dir.flags = dir.flags & ~INODE_FLAG.INDEX;
    await this.save(dir);
  }

  /** Remove the entry `name` from a directory; returns the inode it named. */
  private async removeEntry(dirIno: number, name: string): Promise<number> {
    const dir = await this.ownWritable(dirIno);
    const nm = Buffer.from(name, 'utf8');
    const n = this.dirBlockCount(dir);
    for (let lblk = 0; lblk < n; lblk++) {
      const b = await this.dirBlockFor(dir, lblk);
      // htree index blocks hold no live entries: an index node is one empty entry.
      const entries = this.entriesOf(dir, b.buf, lblk).filter((e) => !(lblk === 0 && dir.hasFlag(INODE_FLAG.INDEX) && e.offset > 12));
      const i = entries.findIndex((e) => e.ino !== 0 && e.name.equals(nm));
      if (i < 0) continue;
      const e = entries[i]!;
      const prev = entries[i - 1];
      if (prev) b.buf.writeUInt16LE(recLenToDisk(prev.recLen + e.recLen), prev.offset + 4);
      else b.buf.writeUInt32LE(0, e.offset);
      await this.writeDirBlock(dir, b.pblk, b.buf);
      this.touch(dir, 'mtime', 'ctime');
      await this.save(dir);
      return e.ino;
    }
    throw new FsError('ENOENT', `${this.dev}: no entry ${JSON.stringify(name)} in directory inode ${dirIno}`);
  }

  private checkName(name: string): void {
    if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) throw new FsError('EINVAL', `invalid name ${JSON.stringify(name)}`);
    if (Buffer.byteLength(name) > 255) throw new FsError('ENAMETOOLONG', `${name}: name longer than 255 bytes`);
  }

  private async checkNew(parent: number, name: string): Promise<void> {
    this.checkName(name);
    if ((await this.lookupIno(parent, name)) !== null) throw new FsError('EEXIST', `${this.dev}: ${name} exists in directory inode ${parent}`);
  }

  /** Drop one link; at zero, free the inode and everything it holds. */
  private async dropLink(ino: number): Promise<void> {
    const inode = await this.own(ino);
    const dir = inode.type === S_IFDIR;
    inode.links = dir ? 0 : Math.max(0, inode.links - 1);
    this.touch(inode, 'ctime');
    if (inode.links > 0) {
      await this.save(inode);
      return;
    }
    const { extents, treeBlocks } = await this.mapping(inode);
    const acl = inode.fileAcl;
    inode.dtime = Math.floor(Date.now() / 1000);
    inode.size = 0;
    inode.fileAcl = 0;
    if (inode.hasFlag(INODE_FLAG.EXTENTS)) buildTree([], inode.iBlock, [], this.sb.blockSize);
    else if (extents.length || treeBlocks.length) inode.iBlock.fill(0);
    inode.setBlocks512(0);
    await this.save(inode);
    for (const e of extents) await this.alloc.freeBlocks(e.pblk, e.len);
    for (const b of treeBlocks) {
      this.extCache.delete(b);
      await this.alloc.freeBlocks(b, 1);
    }
    if (acl) await this.releaseXattrBlock(acl);
    await this.alloc.freeInode(ino, dir);
    this.inodes.delete(ino);
    await this.writeSuper();
  }

  override async create(parent: number, name: string, mode: number, uid: number, gid: number): Promise<Attr> {
    return this.mknod(parent, name, (mode & ~S_IFMT) | S_IFREG, 0, uid, gid);
  }

  override async mknod(parent: number, name: string, mode: number, rdev: number, uid: number, gid: number): Promise<Attr> {
    await this.dirInode(parent);
    await this.checkNew(parent, name);
    const type = mode & S_IFMT;
    if (![S_IFREG, S_IFCHR, S_IFBLK, S_IFIFO, S_IFSOCK].includes(type)) throw new FsError('EINVAL', `mknod: unsupported file type 0${type.toString(8)}`);
    const inode = await this.newInode(parent, mode, uid, gid);
    if (type === S_IFCHR || type === S_IFBLK) {
      const major = (rdev >>> 8) & 0xfff;
      const minor = (rdev & 0xff) | ((rdev >>> 12) & 0xfff00);
      if (major < 256 && minor < 256) inode.iBlock.writeUInt32LE((major << 8) | minor, 0);
      else inode.iBlock.writeUInt32LE(((minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12)) >>> 0, 4);
    }
    await this.alloc.flush();
    await this.save(inode);
    await this.addEntry(parent, name, inode.ino, mode);
    await this.writeSuper();
    return this.attrOf(inode);
  }

  override async mkdir(parent: number, name: string, mode: number, uid: number, gid: number): Promise<Attr> {
    const p = await this.dirInode(parent);
    await this.checkNew(parent, name);
    if (p.links >= MAX_LINKS) throw new FsError('EMLINK', `${this.dev}: directory inode ${parent} has too many links`);
    const bs = this.sb.blockSize;
    const inode = await this.newInode(parent, (mode & 0o7777) | S_IFDIR, uid, gid);
    inode.links = 2;
    const [a] = await this.allocRange(this.gd.inodeTable(Math.floor((inode.ino - 1) / this.sb.inodesPerGroup)), 1);
    await this.writeDirBlock(inode, a!.start, this.packDir(dotEntries(inode.ino, parent)));
    inode.size = bs;
    await this.commitExtents(inode, [{ lblk: 0, pblk: a!.start, len: 1, unwritten: false }], []);
    await this.addEntry(parent, name, inode.ino, S_IFDIR);
    const pi = await this.own(parent);
    pi.links = pi.links + 1;
    await this.save(pi);
    await this.writeSuper();
    return this.attrOf(inode);
  }

  private async isEmptyDir(ino: number): Promise<boolean> {
    const dir = await this.dirInode(ino);
    for await (const reg of this.dirRegions(dir)) {
      for (const e of this.regionEntries(dir, reg)) {
        const n = e.name.toString('latin1');
        if (n !== '.' && n !== '..') return false;
      }
    }
    return true;
  }

  override async unlink(parent: number, name: string): Promise<void> {
    const ino = await this.lookupIno(parent, name);
    if (ino === null) throw new FsError('ENOENT', `${this.dev}: no entry ${JSON.stringify(name)} in directory inode ${parent}`);
    if ((await this.liveInode(ino)).type === S_IFDIR) throw new FsError('EISDIR', `${this.dev}: ${name} is a directory`);
    await this.removeEntry(parent, name);
    await this.dropLink(ino);
    await this.writeSuper();
  }

  override async rmdir(parent: number, name: string): Promise<void> {
    this.checkName(name);
    const ino = await this.lookupIno(parent, name);
    if (ino === null) throw new FsError('ENOENT', `${this.dev}: no entry ${JSON.stringify(name)} in directory inode ${parent}`);
    if ((await this.liveInode(ino)).type !== S_IFDIR) throw new FsError('ENOTDIR', `${this.dev}: ${name} is not a directory`);
    if (!(await this.isEmptyDir(ino))) throw new FsError('ENOTEMPTY', `${this.dev}: directory ${name} is not empty`);
    await this.removeEntry(parent, name);
    const p = await this.own(parent);
    p.links = Math.max(2, p.links - 1);
    await this.save(p);
    await this.dropLink(ino);
    await this.writeSuper();
  }

  override async link(ino: number, newParent: number, newName: string): Promise<Attr> {
    const inode = await this.own(ino);
    if (inode.type === S_IFDIR) throw new FsError('EPERM', `${this.dev}: hard links to directories are not allowed`);
    if (inode.links >= MAX_LINKS) throw new FsError('EMLINK', `${this.dev}: inode ${ino} has too many links`);
    await this.dirInode(newParent);
    await this.checkNew(newParent, newName);
    inode.links = inode.links + 1;
    this.touch(inode, 'ctime');
    await this.save(inode);
    await this.addEntry(newParent, newName, ino, inode.mode);
    return this.attrOf(inode);
  }

  override async symlink(parent: number, name: string, target: string, uid: number, gid: number): Promise<Attr> {
    await this.dirInode(parent);
    await this.checkNew(parent, name);
    const t = Buffer.from(target, 'utf8');
    if (t.length === 0 || t.length >= this.sb.blockSize) throw new FsError('ENAMETOOLONG', `symlink target of ${t.length} bytes`);
    const inode = await this.newInode(parent, 0o120777, uid, gid);
    inode.size = t.length;
    if (t.length < I_BLOCK_BYTES) {
      t.copy(inode.iBlock);
      await this.alloc.flush();
      await this.save(inode);
    } else {
      if (this.sb.has(INCOMPAT.EXTENTS)) inode.flags = INODE_FLAG.EXTENTS;
      const [a] = await this.allocRange(0, 1);
      const buf = Buffer.alloc(this.sb.blockSize);
      t.copy(buf);
      await this.io.writeData(a!.start, buf);
      await this.commitExtents(inode, [{ lblk: 0, pblk: a!.start, len: 1, unwritten: false }], []);
    }
    await this.addEntry(parent, name, inode.ino, S_IFLNK);
    await this.writeSuper();
    return this.attrOf(inode);
  }

  override async rename(parent: number, name: string, newParent: number, newName: string): Promise<void> {
    this.checkName(name);
    this.checkName(newName);
    const ino = await this.lookupIno(parent, name);
    if (ino === null) throw new FsError('ENOENT', `${this.dev}: no entry ${JSON.stringify(name)} in directory inode ${parent}`);
    await this.dirInode(newParent);
    if (parent === newParent && name === newName) return;
    const src = await this.liveInode(ino);
    const isDir = src.type === S_IFDIR;
    if (isDir) {
      // A directory cannot move below itself.
      for (let cur = newParent, hops = 0; cur !== this.rootIno; hops++) {
        if (cur === ino) throw new FsError('EINVAL', `${this.dev}: cannot move a directory into itself`);
        const up = await this.lookupIno(cur, '..');
        if (up === null || hops > 4096) break;
        cur = up;
      }
    }
    const existing = await this.lookupIno(newParent, newName);
    if (existing === ino) return;
    if (existing !== null) {
      const dst = await this.liveInode(existing);
      if (dst.type === S_IFDIR) {
        if (!isDir) throw new FsError('EISDIR', `${this.dev}: ${newName} is a directory`);
        if (!(await this.isEmptyDir(existing))) throw new FsError('ENOTEMPTY', `${this.dev}: ${newName} is not empty`);
        await this.rmdir(newParent, newName);
      } else {
        if (isDir) throw new FsError('ENOTDIR', `${this.dev}: ${newName} is not a directory`);
        await this.unlink(newParent, newName);
      }
    }
    // New name first, then the old one goes: a crash leaves an extra link, never none.
    await this.addEntry(newParent, newName, ino, src.mode);
    await this.removeEntry(parent, name);
    const moved = await this.own(ino);
    this.touch(moved, 'ctime');
    await this.save(moved);
    if (isDir && parent !== newParent) {
      await this.setDotDot(moved, newParent);
      const op = await this.own(parent);
      op.links = Math.max(2, op.links - 1);
      await this.save(op);
      const np = await this.own(newParent);
      np.links = np.links + 1;
      await this.save(np);
    }
    await this.writeSuper();
  }

  private async setDotDot(moved: Inode, parent: number): Promise<void> {
    const dir = await this.ownWritable(moved.ino);
    const b = await this.dirBlockFor(dir, 0);
    const dotdot = this.entriesOf(dir, b.buf, 0)[1];
    if (!dotdot || dotdot.name.toString('latin1') !== '..') throw corrupt(this.dev, `directory inode ${dir.ino}`, 'no ".." entry');
    b.buf.writeUInt32LE(parent, dotdot.offset);
    await this.writeDirBlock(dir, b.pblk, b.buf);
  }

  // ---- attributes ----

  override async chmod(ino: number, mode: number): Promise<void> {
    const inode = await this.own(ino);
    inode.mode = (inode.mode & S_IFMT) | (mode & 0o7777);
    this.touch(inode, 'ctime');
    await this.save(inode);
  }

  override async chown(ino: number, uid: number, gid: number): Promise<void> {
    const inode = await this.own(ino);
    if (uid !== -1 && uid !== 0xffffffff) inode.uid = uid;
    if (gid !== -1 && gid !== 0xffffffff) inode.gid = gid;
    this.touch(inode, 'ctime');
    await this.save(inode);
  }

  override async utimens(ino: number, atime: Timespec | null, mtime: Timespec | null): Promise<void> {
    const inode = await this.own(ino);
    if (atime) inode.setTime('atime', atime);
    if (mtime) inode.setTime('mtime', mtime);
    this.touch(inode, 'ctime');
    await this.save(inode);
  }

  // ---- xattrs ----

  override async setxattr(ino: number, name: string, value: Uint8Array, flags: number): Promise<void> {
    const key = splitName(name);
    if (!key) throw new FsError('ENOTSUP', `${this.dev}: xattr namespace of ${name} is not supported`);
    if (key.name.length > 255) throw new FsError('ERANGE', `${name}: name too long`);
    let v: Buffer = Buffer.from(value);
    if (key.index === INDEX_ACL_ACCESS || key.index === INDEX_ACL_DEFAULT) {
      const disk = aclToDisk(value);
      if (!disk) throw new FsError('EINVAL', `${name}: malformed ACL`);
      v = disk;
    }
    const inode = await this.own(ino);
    const list = await this.xattrs(inode);
    const i = list.findIndex((x) => x.index === key.index && x.name === key.name);
    if (i >= 0 && flags & XATTR_CREATE) throw new FsError('EEXIST', `${name} exists`);
    if (i < 0 && flags & XATTR_REPLACE) throw new FsError('ENODATA', `${name} does not exist`);
    const next = list.filter((_, j) => j !== i);
    next.push({ index: key.index, name: key.name, value: v });
    await this.storeXattrs(inode, next);
  }

  override async removexattr(ino: number, name: string): Promise<void> {
    const key = splitName(name);
    const inode = await this.own(ino);
    const list = await this.xattrs(inode);
    const next = list.filter((x) => !(key && x.index === key.index && x.name === key.name));
    if (next.length === list.length) throw new FsError('ENODATA', `${this.dev}: inode ${ino} has no xattr ${name}`);
    await this.storeXattrs(inode, next);
  }

  override async fsync(): Promise<void> {
    await this.writeSuper();
    await this.txn.commit();
  }
}

