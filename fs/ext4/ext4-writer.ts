/**
 * The ext2/3/4 driver opened writable. It holds the read-only driver (`ext4fs.ts`) for every
 * read, the storage layer (`ext4-storage.ts`: inodes, allocation, mappings, xattrs, the
 * transactions), and the directory and file-data writers built on it; here are the calls
 * that change the tree: nodes, links, renames, attributes and xattrs. With a jbd2 journal,
 * the metadata of a batch of operations is committed as one transaction (transactions.ts),
 * so a crash leaves the last committed state. Without one the writes are ordered: data, then
 * the bitmaps and counts that allocate it, then the inode or tree that points at it, then the
 * directory entry; frees go the other way, so a crash leaves at worst leaked blocks or link
 * counts that e2fsck repairs without loss.
 */
import type { BlockDevice } from '../../disk/block-device.js';
import { FsError } from '../errors.js';
import type { Attr, DirEntry, DirName, FileExtent, Filesystem, FsOpenOptions, StatFs, Timespec } from '../filesystem.js';
import { aclToDisk } from './acl.js';
import { INCOMPAT, INODE_FLAG, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, S_IFBLK, S_IFCHR, S_IFIFO, S_IFSOCK } from './constants.js';
import { dotEntries } from './dirent.js';
import { DirWriter } from './dir-writer.js';
import { openParts } from './ext4-open.js';
import { Ext4Fs } from './ext4fs.js';
import { Ext4Storage, touch } from './ext4-storage.js';
import { buildTree } from './extent-list.js';
import { FileWriter } from './file-writer.js';
import { I_BLOCK_BYTES } from './inode.js';
import { INDEX_ACL_ACCESS, INDEX_ACL_DEFAULT, splitName } from './xattr.js';

const MAX_LINKS = 65000;
const XATTR_CREATE = 1;
const XATTR_REPLACE = 2;

export class Ext4Writer implements Filesystem {
  readonly writable = true;
  readonly store: Ext4Storage;
  private readonly dirs: DirWriter;
  private readonly files: FileWriter;
  /** Was the filesystem clean when opened? Then close() marks it clean again. */
  private wasClean = false;

  private constructor(readonly fs: Ext4Fs) {
    this.store = new Ext4Storage(fs);
    this.dirs = new DirWriter(this.store);
    this.files = new FileWriter(this.store);
  }

  static async openWritable(dev: BlockDevice, opts: FsOpenOptions = {}): Promise<Ext4Writer> {
    const w = new Ext4Writer(new Ext4Fs(await openParts(dev, { ...opts, writable: true })));
    w.wasClean = w.fs.sb.markMounted(Math.floor(Date.now() / 1000));
    await w.fsync();
    await w.store.useJournal();
    return w;
  }

  private get dev(): string {
    return this.fs.io.name;
  }

  private get inodes() {
    return this.fs.inodes;
  }

  /** Test hook: the next commit stops (throws) before its checkpoint, leaving a log to replay. */
  stopAfterCommit(): void {
    this.store.txn.afterCommit = () => Promise.reject(new FsError('EIO', `${this.dev}: stopped after commit (test)`));
  }

  /** Between operations (the lock calls it): the journal may commit the batch so far; when it waits, for how long. */
  afterChange(): Promise<number | undefined> {
    return this.store.txn.settle();
  }

  async fsync(): Promise<void> {
    await this.store.writeSuper();
    await this.store.txn.commit();
  }

  async close(): Promise<void> {
    if (this.wasClean) this.fs.sb.markUnmounted();
    await this.fsync();
  }

  // ---- reads: the read-only driver's ----

  get type(): string { return this.fs.type; }
  get rootIno(): number { return this.fs.rootIno; }
  label(): string { return this.fs.label(); }
  uuid(): string { return this.fs.uuid(); }
  lookup(parent: number, name: string): Promise<Attr> { return this.fs.lookup(parent, name); }
  getattr(ino: number): Promise<Attr> { return this.fs.getattr(ino); }
  readdir(ino: number): Promise<DirEntry[]> { return this.fs.readdir(ino); }
  readdirTypes(ino: number): Promise<DirName[]> { return this.fs.readdirTypes(ino); }
  read(ino: number, offset: number, length: number): Promise<Buffer> { return this.fs.read(ino, offset, length); }
  readInto(ino: number, offset: number, buf: Buffer): Promise<number> { return this.fs.readInto(ino, offset, buf); }
  readlink(ino: number): Promise<string> { return this.fs.readlink(ino); }
  listxattr(ino: number): Promise<string[]> { return this.fs.listxattr(ino); }
  getxattr(ino: number, name: string): Promise<Buffer> { return this.fs.getxattr(ino, name); }
  statfs(): Promise<StatFs> { return this.fs.statfs(); }
  extents(ino: number): Promise<FileExtent[]> { return this.fs.extents(ino); }

  // ---- file data ----

  write(ino: number, offset: number, data: Uint8Array): Promise<number> {
    return this.files.write(ino, offset, data);
  }

  truncate(ino: number, size: number): Promise<void> {
    return this.files.truncate(ino, size);
  }

  // ---- the tree ----

  private checkName(name: string): void {
    if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) throw new FsError('EINVAL', `invalid name ${JSON.stringify(name)}`);
    if (Buffer.byteLength(name) > 255) throw new FsError('ENAMETOOLONG', `${name}: name longer than 255 bytes`);
  }

  private async checkNew(parent: number, name: string): Promise<void> {
    this.checkName(name);
    if ((await this.fs.dirs.lookupIno(parent, name)) !== null) throw new FsError('EEXIST', `${this.dev}: ${name} exists in directory inode ${parent}`);
  }

  /** The inode an existing entry names. */
  private async entryIno(parent: number, name: string): Promise<number> {
    const ino = await this.fs.dirs.lookupIno(parent, name);
    if (ino === null) throw new FsError('ENOENT', `${this.dev}: no entry ${JSON.stringify(name)} in directory inode ${parent}`);
    return ino;
  }

  /** Drop one link; at zero, free the inode and everything it holds. */
  private async dropLink(ino: number): Promise<void> {
    const inode = await this.inodes.own(ino);
    const dir = inode.type === S_IFDIR;
    inode.links = dir ? 0 : Math.max(0, inode.links - 1);
    touch(inode, 'ctime');
    if (inode.links > 0) {
      await this.inodes.save(inode);
      return;
    }
    const { extents, treeBlocks } = await this.store.mapping(inode);
    const acl = inode.fileAcl;
    inode.dtime = Math.floor(Date.now() / 1000);
    inode.size = 0;
    inode.fileAcl = 0;
    if (inode.hasFlag(INODE_FLAG.EXTENTS)) buildTree([], inode.iBlock, [], this.fs.sb.blockSize);
    else if (extents.length || treeBlocks.length) inode.iBlock.fill(0);
    inode.setBlocks512(0);
    await this.inodes.save(inode);
    for (const e of extents) await this.store.alloc.freeBlocks(e.pblk, e.len);
    await this.store.freeTreeBlocks(treeBlocks);
    if (acl) await this.store.releaseXattrBlock(acl);
    await this.store.alloc.freeInode(ino, dir);
    this.inodes.forget(ino);
    await this.store.writeSuper();
  }

  /** Add or take away one link of a directory (a subdirectory's ".." came or went). */
  private async linkDelta(ino: number, delta: 1 | -1): Promise<void> {
    const inode = await this.inodes.own(ino);
    inode.links = delta > 0 ? inode.links + 1 : Math.max(2, inode.links - 1);
    await this.inodes.save(inode);
  }

  async create(parent: number, name: string, mode: number, uid: number, gid: number): Promise<Attr> {
    return this.mknod(parent, name, (mode & ~S_IFMT) | S_IFREG, 0, uid, gid);
  }

  async mknod(parent: number, name: string, mode: number, rdev: number, uid: number, gid: number): Promise<Attr> {
    await this.fs.dirs.dirInode(parent);
    await this.checkNew(parent, name);
    const type = mode & S_IFMT;
    if (![S_IFREG, S_IFCHR, S_IFBLK, S_IFIFO, S_IFSOCK].includes(type)) throw new FsError('EINVAL', `mknod: unsupported file type 0${type.toString(8)}`);
    const inode = await this.store.newInode(parent, mode, uid, gid);
    if (type === S_IFCHR || type === S_IFBLK) {
      const major = (rdev >>> 8) & 0xfff;
      const minor = (rdev & 0xff) | ((rdev >>> 12) & 0xfff00);
      if (major < 256 && minor < 256) inode.iBlock.writeUInt32LE((major << 8) | minor, 0);
      else inode.iBlock.writeUInt32LE(((minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12)) >>> 0, 4);
    }
    await this.store.alloc.flush();
    await this.inodes.save(inode);
    await this.dirs.addEntry(parent, name, inode.ino, mode);
    await this.store.writeSuper();
    return this.fs.attrOf(inode);
  }

  async mkdir(parent: number, name: string, mode: number, uid: number, gid: number): Promise<Attr> {
    const p = await this.fs.dirs.dirInode(parent);
    await this.checkNew(parent, name);
    if (p.links >= MAX_LINKS) throw new FsError('EMLINK', `${this.dev}: directory inode ${parent} has too many links`);
    const inode = await this.store.newInode(parent, (mode & 0o7777) | S_IFDIR, uid, gid);
    inode.links = 2;
    const [a] = await this.store.allocRange(this.inodes.groupStart(inode.ino), 1);
    await this.dirs.writeBlock(inode, a!.start, this.store.packDir(dotEntries(inode.ino, parent)));
    inode.size = this.fs.sb.blockSize;
    await this.store.commitExtents(inode, [{ lblk: 0, pblk: a!.start, len: 1, unwritten: false }], []);
    await this.dirs.addEntry(parent, name, inode.ino, S_IFDIR);
    await this.linkDelta(parent, 1);
    await this.store.writeSuper();
    return this.fs.attrOf(inode);
  }

  async unlink(parent: number, name: string): Promise<void> {
    const ino = await this.entryIno(parent, name);
    if ((await this.inodes.live(ino)).type === S_IFDIR) throw new FsError('EISDIR', `${this.dev}: ${name} is a directory`);
    await this.dirs.removeEntry(parent, name);
    await this.dropLink(ino);
    await this.store.writeSuper();
  }

  async rmdir(parent: number, name: string): Promise<void> {
    this.checkName(name);
    const ino = await this.entryIno(parent, name);
    if ((await this.inodes.live(ino)).type !== S_IFDIR) throw new FsError('ENOTDIR', `${this.dev}: ${name} is not a directory`);
    if (!(await this.fs.dirs.isEmpty(ino))) throw new FsError('ENOTEMPTY', `${this.dev}: directory ${name} is not empty`);
    await this.dirs.removeEntry(parent, name);
    await this.linkDelta(parent, -1);
    await this.dropLink(ino);
    await this.store.writeSuper();
  }

  async link(ino: number, newParent: number, newName: string): Promise<Attr> {
    const inode = await this.inodes.own(ino);
    if (inode.type === S_IFDIR) throw new FsError('EPERM', `${this.dev}: hard links to directories are not allowed`);
    if (inode.links >= MAX_LINKS) throw new FsError('EMLINK', `${this.dev}: inode ${ino} has too many links`);
    await this.fs.dirs.dirInode(newParent);
    await this.checkNew(newParent, newName);
    inode.links = inode.links + 1;
    touch(inode, 'ctime');
    await this.inodes.save(inode);
    await this.dirs.addEntry(newParent, newName, ino, inode.mode);
    return this.fs.attrOf(inode);
  }

  async symlink(parent: number, name: string, target: string, uid: number, gid: number): Promise<Attr> {
    await this.fs.dirs.dirInode(parent);
    await this.checkNew(parent, name);
    const t = Buffer.from(target, 'utf8');
    const bs = this.fs.sb.blockSize;
    if (t.length === 0 || t.length >= bs) throw new FsError('ENAMETOOLONG', `symlink target of ${t.length} bytes`);
    const inode = await this.store.newInode(parent, 0o120777, uid, gid);
    inode.size = t.length;
    if (t.length < I_BLOCK_BYTES) {
      t.copy(inode.iBlock);
      await this.store.alloc.flush();
      await this.inodes.save(inode);
    } else {
      if (this.fs.sb.has(INCOMPAT.EXTENTS)) inode.flags = INODE_FLAG.EXTENTS;
      const [a] = await this.store.allocRange(0, 1);
      const buf = Buffer.alloc(bs);
      t.copy(buf);
      await this.fs.io.writeData(a!.start, buf);
      await this.store.commitExtents(inode, [{ lblk: 0, pblk: a!.start, len: 1, unwritten: false }], []);
    }
    await this.dirs.addEntry(parent, name, inode.ino, S_IFLNK);
    await this.store.writeSuper();
    return this.fs.attrOf(inode);
  }

  async rename(parent: number, name: string, newParent: number, newName: string): Promise<void> {
    this.checkName(name);
    this.checkName(newName);
    const ino = await this.entryIno(parent, name);
    await this.fs.dirs.dirInode(newParent);
    if (parent === newParent && name === newName) return;
    const src = await this.inodes.live(ino);
    const isDir = src.type === S_IFDIR;
    if (isDir) {
      // A directory cannot move below itself.
      for (let cur = newParent, hops = 0; cur !== this.rootIno; hops++) {
        if (cur === ino) throw new FsError('EINVAL', `${this.dev}: cannot move a directory into itself`);
        const up = await this.fs.dirs.lookupIno(cur, '..');
        if (up === null || hops > 4096) break;
        cur = up;
      }
    }
    const existing = await this.fs.dirs.lookupIno(newParent, newName);
    if (existing === ino) return;
    if (existing !== null) {
      const dst = await this.inodes.live(existing);
      if (dst.type === S_IFDIR) {
        if (!isDir) throw new FsError('EISDIR', `${this.dev}: ${newName} is a directory`);
        if (!(await this.fs.dirs.isEmpty(existing))) throw new FsError('ENOTEMPTY', `${this.dev}: ${newName} is not empty`);
        await this.rmdir(newParent, newName);
      } else {
        if (isDir) throw new FsError('ENOTDIR', `${this.dev}: ${newName} is not a directory`);
        await this.unlink(newParent, newName);
      }
    }
    // New name first, then the old one goes: a crash leaves an extra link, never none.
    await this.dirs.addEntry(newParent, newName, ino, src.mode);
    await this.dirs.removeEntry(parent, name);
    const moved = await this.inodes.own(ino);
    touch(moved, 'ctime');
    await this.inodes.save(moved);
    if (isDir && parent !== newParent) {
      await this.dirs.setDotDot(ino, newParent);
      await this.linkDelta(parent, -1);
      await this.linkDelta(newParent, 1);
    }
    await this.store.writeSuper();
  }

  // ---- attributes ----

  async chmod(ino: number, mode: number): Promise<void> {
    const inode = await this.inodes.own(ino);
    inode.mode = (inode.mode & S_IFMT) | (mode & 0o7777);
    touch(inode, 'ctime');
    await this.inodes.save(inode);
  }

  async chown(ino: number, uid: number, gid: number): Promise<void> {
    const inode = await this.inodes.own(ino);
    if (uid !== -1 && uid !== 0xffffffff) inode.uid = uid;
    if (gid !== -1 && gid !== 0xffffffff) inode.gid = gid;
    touch(inode, 'ctime');
    await this.inodes.save(inode);
  }

  async utimens(ino: number, atime: Timespec | null, mtime: Timespec | null): Promise<void> {
    const inode = await this.inodes.own(ino);
    if (atime) inode.setTime('atime', atime);
    if (mtime) inode.setTime('mtime', mtime);
    touch(inode, 'ctime');
    await this.inodes.save(inode);
  }

  // ---- xattrs ----

  async setxattr(ino: number, name: string, value: Uint8Array, flags: number): Promise<void> {
    const key = splitName(name);
    if (!key) throw new FsError('ENOTSUP', `${this.dev}: xattr namespace of ${name} is not supported`);
    if (key.name.length > 255) throw new FsError('ERANGE', `${name}: name too long`);
    let v: Buffer = Buffer.from(value);
    if (key.index === INDEX_ACL_ACCESS || key.index === INDEX_ACL_DEFAULT) {
      const disk = aclToDisk(value);
      if (!disk) throw new FsError('EINVAL', `${name}: malformed ACL`);
      v = disk;
    }
    const inode = await this.inodes.own(ino);
    const list = await this.fs.data.xattrs(inode);
    const i = list.findIndex((x) => x.index === key.index && x.name === key.name);
    if (i >= 0 && flags & XATTR_CREATE) throw new FsError('EEXIST', `${name} exists`);
    if (i < 0 && flags & XATTR_REPLACE) throw new FsError('ENODATA', `${name} does not exist`);
    const next = list.filter((_, j) => j !== i);
    next.push({ index: key.index, name: key.name, value: v });
    await this.store.storeXattrs(inode, next);
  }

  async removexattr(ino: number, name: string): Promise<void> {
    const key = splitName(name);
    const inode = await this.inodes.own(ino);
    const list = await this.fs.data.xattrs(inode);
    const next = list.filter((x) => !(key && x.index === key.index && x.name === key.name));
    if (next.length === list.length) throw new FsError('ENODATA', `${this.dev}: inode ${ino} has no xattr ${name}`);
    await this.store.storeXattrs(inode, next);
  }
}
