/**
 * guestkit's ext2/ext3/ext4 driver opened read-only: attributes, file data, symlinks,
 * listings and xattrs (ACLs in the POSIX format), over the inode table (`inode-table.ts`), an
 * inode's bytes (`inode-data.ts`) and directories (`dir-reader.ts`). A dirty journal is read
 * through an in-memory replay (`ext4-open.ts`). The writable driver (`ext4-writer.ts`) holds
 * one of these for its reads.
 */
import type { BlockDevice } from '../../disk/block-device.js';
import { corrupt, FsError } from '../errors.js';
import { nameUsable } from '../names.js';
import type { Attr, DirEntry, DirName, FileExtent, Filesystem, FsOpenOptions, StatFs } from '../filesystem.js';
import { UnsupportedWrites } from '../unsupported.js';
import { aclFromDisk } from './acl.js';
import type { BlockIO } from './block-io.js';
import { DIRENT_TYPES, INCOMPAT, INODE_FLAG, RO_COMPAT, ROOT_INO, S_IFDIR, S_IFLNK, S_IFREG } from './constants.js';
import { DirReader } from './dir-reader.js';
import { openParts, type Ext4Parts } from './ext4-open.js';
import type { Run } from './file-map.js';
import type { GroupDescs } from './group-desc.js';
import { I_BLOCK_BYTES, type Inode } from './inode.js';
import { InodeData, XATTR_DATA } from './inode-data.js';
import { InodeTable } from './inode-table.js';
import type { Superblock } from './superblock.js';
import { fullName, INDEX_ACL_ACCESS, INDEX_ACL_DEFAULT, INDEX_SYSTEM, splitName } from './xattr.js';

/** A single read request larger than this is refused (callers read in chunks). */
const MAX_READ = 1 << 30;
/** Directory entries whose inodes are fetched together. */
const READDIR_BATCH = 4096;

export class Ext4Fs extends UnsupportedWrites implements Filesystem {
  readonly rootIno = ROOT_INO;
  readonly type: string;
  readonly writable = false;
  readonly io: BlockIO;
  readonly sb: Superblock;
  readonly gd: GroupDescs;
  readonly warn: (m: string) => void;
  readonly inodes: InodeTable;
  readonly data: InodeData;
  readonly dirs: DirReader;

  constructor(p: Ext4Parts) {
    super();
    ({ io: this.io, sb: this.sb, gd: this.gd, warn: this.warn } = p);
    this.type = p.sb.fsType;
    this.inodes = new InodeTable(p.io, p.sb, p.gd);
    this.data = new InodeData(this.inodes);
    this.dirs = new DirReader(this.inodes, this.data);
  }

  static async open(dev: BlockDevice, opts: FsOpenOptions = {}): Promise<Ext4Fs> {
    return new Ext4Fs(await openParts(dev, { ...opts, writable: false }));
  }

  label(): string {
    return this.sb.label;
  }

  uuid(): string {
    return this.sb.uuidString;
  }

  private get dev(): string {
    return this.io.name;
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
    return this.attrOf(await this.inodes.live(ino));
  }

  // ---- extended attributes ----

  async listxattr(ino: number): Promise<string[]> {
    const inode = await this.inodes.live(ino);
    return (await this.data.xattrs(inode)).filter((x) => !(x.index === INDEX_SYSTEM && x.name === XATTR_DATA)).map(fullName);
  }

  async getxattr(ino: number, name: string): Promise<Buffer> {
    const inode = await this.inodes.live(ino);
    const want = splitName(name);
    const x = want && !(want.index === INDEX_SYSTEM && want.name === XATTR_DATA) ? (await this.data.xattrs(inode)).find((e) => e.index === want.index && e.name === want.name) : undefined;
    if (!x) throw new FsError('ENODATA', `${this.dev}: inode ${ino} has no xattr ${name}`);
    if (x.index === INDEX_ACL_ACCESS || x.index === INDEX_ACL_DEFAULT) {
      const v = aclFromDisk(x.value);
      if (!v) throw corrupt(this.dev, `inode ${ino} xattr ${name}`, 'malformed ACL');
      return v;
    }
    return x.value;
  }

  // ---- file data ----

  async read(ino: number, offset: number, length: number): Promise<Buffer> {
    const inode = await this.dataInode(ino, offset, length);
    return this.data.read(inode, offset, length);
  }

  override async readInto(ino: number, offset: number, buf: Buffer): Promise<number> {
    const inode = await this.dataInode(ino, offset, buf.length);
    return this.data.readInto(inode, offset, buf);
  }

  /** The inode a read of `length` bytes at `offset` goes to, the request checked. */
  private async dataInode(ino: number, offset: number, length: number): Promise<Inode> {
    const inode = await this.inodes.live(ino);
    if (inode.type === S_IFDIR) throw new FsError('EISDIR', `${this.dev}: inode ${ino} is a directory`);
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) throw new FsError('EINVAL', `read of ${length} bytes at ${offset}`);
    if (length > MAX_READ) throw new FsError('EINVAL', `read of ${length} bytes is larger than ${MAX_READ}`);
    return inode;
  }

  async extents(ino: number): Promise<FileExtent[]> {
    const inode = await this.inodes.live(ino);
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
    const map = this.inodes.fileMap(inode);
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
    const inode = await this.inodes.live(ino);
    const map = this.inodes.fileMap(inode);
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
    const inode = await this.inodes.live(ino);
    if (inode.type !== S_IFLNK) throw new FsError('EINVAL', `${this.dev}: inode ${ino} is not a symbolic link`);
    if (inode.size > this.sb.blockSize || inode.size > 65536) throw corrupt(this.dev, `inode ${ino}`, `symlink length ${inode.size} is too long`);
    if (this.isFastSymlink(inode)) {
      if (inode.size >= I_BLOCK_BYTES) throw corrupt(this.dev, `inode ${ino}`, `fast symlink length ${inode.size} exceeds i_block`);
      return inode.iBlock.subarray(0, inode.size).toString('utf8');
    }
    return (await this.data.read(inode, 0, inode.size)).toString('utf8');
  }

  /** A symlink whose target sits in i_block: it owns no block but its xattr block. */
  isFastSymlink(inode: Inode): boolean {
    if (inode.hasFlag(INODE_FLAG.INLINE_DATA)) return false;
    const eaBlocks = inode.fileAcl ? this.sb.blockSize / 512 : 0;
    return inode.blocks512(this.hugeFile, this.sb.blockSize) - eaBlocks === 0;
  }

  // ---- directories ----

  async lookup(parent: number, name: string): Promise<Attr> {
    const ino = await this.dirs.lookupIno(parent, name);
    if (ino === null) throw new FsError('ENOENT', `${this.dev}: no entry ${JSON.stringify(name)} in directory inode ${parent}`);
    return this.attrOf(await this.inodes.live(ino));
  }

  /** The usable names of a directory, with their inode numbers and dirent file types. */
  private async names(ino: number): Promise<{ name: string; ino: number; fileType: number }[]> {
    const dir = await this.dirs.dirInode(ino);
    const entries: { name: string; ino: number; fileType: number }[] = [];
    for await (const reg of this.dirs.regions(dir)) {
      for (const e of this.dirs.regionEntries(dir, reg)) {
        const name = e.name.toString('utf8');
        if (name === '.' || name === '..') continue;
        const where = reg.at === undefined ? undefined : reg.at + BigInt(e.offset);
        if (!nameUsable(name, this.warn, this.dev, `directory inode ${ino}${reg.lblk >= 0 ? ` block ${reg.lblk}` : ' inline data'}`, where)) continue;
        entries.push({ name, ino: e.ino, fileType: e.fileType });
      }
    }
    return entries;
  }

  /** With the filetype feature the dirents say each entry's type, so no inode is read (a FUSE listing of 10,000 files read 10,000). */
  override async readdirTypes(ino: number): Promise<DirName[]> {
    if (!this.sb.has(INCOMPAT.FILETYPE)) return super.readdirTypes(ino);
    return (await this.names(ino)).map((e) => ({ name: e.name, ino: e.ino, type: DIRENT_TYPES[e.fileType] ?? 0 }));
  }

  async readdir(ino: number): Promise<DirEntry[]> {
    const entries = await this.names(ino);
    const out: DirEntry[] = [];
    // In batches, so the inode-table blocks of one batch stay in the cache until used.
    for (let i = 0; i < entries.length; i += READDIR_BATCH) {
      const batch = entries.slice(i, i + READDIR_BATCH);
      await this.inodes.prefetch(batch.map((e) => e.ino));
      for (const e of batch) {
        // One damaged inode costs its entry (with a warning), not the whole listing; lookup still says why.
        let attr: Attr;
        try {
          attr = this.attrOf(await this.inodes.live(e.ino));
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

  async close(): Promise<void> {}
}
