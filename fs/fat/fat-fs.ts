/**
 * FAT12/16/32 with VFAT long names behind the Filesystem interface: the read path. Writes
 * are in `fat-writer.ts`, a subclass, as ext4's and NTFS's are.
 *
 * Inode numbers: the root is 1; every other entry is numbered by the device byte offset of
 * its short directory entry divided by 32 (as Linux keys its inodes by i_pos), so numbers are
 * stable across mounts of an unchanged volume. A renamed entry keeps its number for the rest
 * of the mount; a new entry whose offset-derived number is still held by such a moved entry
 * gets a number above the device's range instead.
 */
import type { BlockDevice } from '../../disk/block-device.js';
import { Lru } from '../../disk/lru.js';
import { FsError, corrupt } from '../errors.js';
import type { Attr, DirEntry, FileExtent, Filesystem, FsIdentity, FsOpenOptions, StatFs } from '../filesystem.js';
import { nameUsable } from '../names.js';
import { UnsupportedWrites } from '../unsupported.js';
import { parseBpb, type Geometry } from './bpb.js';
import { readChain } from './chain.js';
import { ATTR, SLOT, fromDos, type ShortEntry } from './dirent.js';
import type { DirRecord } from './directory.js';
import { Listing } from './listing.js';
import { FatTable } from './fat-table.js';
import { readFsInfo } from './fsinfo.js';
import { parseOptions, type FatOptions } from './options.js';

export const ROOT = 1;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
export const MAX_DIR_SLOTS = 65536;
/** Linux reports FAT_LFN_LEN × NLS_MAX_CHARSET_SIZE. */
const NAME_MAX = 255 * 6;
/** Directories kept loaded (each up to 2 MiB of entries). */
const MAX_LISTINGS = 64;
const MAX_CHAIN_CLUSTERS = 1 << 21;

export interface Node {
  ino: number;
  parent: number;
  /** Device byte offset of the short entry (root: -1). */
  pos: bigint;
  entry: ShortEntry;
  name: string;
}

export class FatFilesystem extends UnsupportedWrites implements Filesystem {
  readonly type = 'vfat';
  readonly rootIno = ROOT;
  /**
   * Every entry numbered so far. Not bounded: an inode number handed out must stay valid
   * while a caller (the kernel, through FUSE) may use it, and nothing here says when it is
   * done; FUSE's forget would let these go.
   */
  protected readonly nodes = new Map<number, Node>();
  protected readonly inoAt = new Map<bigint, number>();
  /** Loaded directories (re-read when dropped); concurrent callers share one load. */
  protected readonly listings = new Lru<number, Promise<Listing>>(MAX_LISTINGS);
  /** Files' clusters, as far as their sizes need, by inode; bounded by clusters held. */
  protected readonly chains = new Lru<number, number[]>(MAX_CHAIN_CLUSTERS);
  protected nextSpareIno: number;
  protected volumeLabel = '';
  /** The open options' warn: damage that is skipped, not refused. */
  protected warn?: (m: string) => void;

  protected constructor(
    protected readonly dev: BlockDevice,
    protected readonly g: Geometry,
    protected readonly fat: FatTable,
    protected readonly opts: FatOptions,
    protected readonly fsInfoOffset: number | undefined,
    readonly writable: boolean,
  ) {
    super();
    this.nextSpareIno = Number(dev.size / BigInt(SLOT)) + 2;
    const root: ShortEntry = {
      name: Buffer.alloc(11, 0x20), attr: ATTR.directory, ntres: 0, crtTenth: 0, crtTime: 0, crtDate: 0,
      accDate: 0, wrtTime: 0, wrtDate: 0, cluster: g.type === 32 ? g.rootCluster : 0, size: 0,
    };
    this.nodes.set(ROOT, { ino: ROOT, parent: ROOT, pos: -1n, entry: root, name: '' });
  }

  static async open(dev: BlockDevice, o: FsOpenOptions = {}): Promise<FatFilesystem> {
    const g = parseBpb(await dev.read(0n, 512), dev.name, dev.size);
    const opts = parseOptions(o.options);
    const writable = o.writable === true;
    if (writable && !dev.canWrite()) throw new FsError('EROFS', `${dev.name}: device is read-only`);
    const fat = new FatTable(dev, g);
    let fsInfoOffset: number | undefined;
    if (g.fsInfoSector) {
      const at = g.fsInfoSector * g.bytesPerSector;
      const info = await readFsInfo(dev, at);
      if (info) {
        fsInfoOffset = at;
        if (info.next !== undefined && info.next >= 2 && info.next <= fat.clusterMax) fat.nextFree = info.next;
      } else {
        o.warn?.(`${dev.name}: FAT32 FSInfo sector ${g.fsInfoSector} has bad signatures; ignored`);
      }
    }
    // The writable driver (fat-writer.ts) opens through here too: `this` builds it.
    const fs = new this(dev, g, fat, opts, fsInfoOffset, writable);
    fs.warn = o.warn;
    const root = await fs.listing(ROOT);
    fs.volumeLabel = root.label ?? g.label;
    return fs;
  }

  /** The driver's `identify`: what open reads, without statfs's scan of the whole FAT. */
  static async identify(dev: BlockDevice): Promise<FsIdentity> {
    const fs = await FatFilesystem.open(dev);
    const id = { type: fs.type, label: fs.label(), uuid: fs.uuid(), size: BigInt(fs.g.clusterCount) * BigInt(fs.g.clusterSize) };
    await fs.close();
    return id;
  }

  label(): string {
    return this.volumeLabel;
  }

  uuid(): string {
    if (this.g.serial === undefined) return '';
    const hex = this.g.serial.toString(16).toUpperCase().padStart(8, '0');
    return `${hex.slice(0, 4)}-${hex.slice(4)}`;
  }

  // ---- nodes and directories ----

  protected node(ino: number): Node {
    const n = this.nodes.get(ino);
    if (!n) throw new FsError('ENOENT', `${this.dev.name}: no inode ${ino}`);
    return n;
  }

  protected isDir(n: Node): boolean {
    return n.ino === ROOT || (n.entry.attr & ATTR.directory) !== 0;
  }

  protected dirNode(ino: number): Node {
    const n = this.node(ino);
    if (!this.isDir(n)) throw new FsError('ENOTDIR', `${this.pathOf(n)}: not a directory`);
    return n;
  }

  protected fileNode(ino: number): Node {
    const n = this.node(ino);
    if (this.isDir(n)) throw new FsError('EISDIR', `${this.pathOf(n)}: is a directory`);
    return n;
  }

  protected pathOf(n: Node): string {
    const parts: string[] = [];
    for (let cur = n, depth = 0; cur.ino !== ROOT && depth < 4096; cur = this.node(cur.parent), depth++) parts.unshift(cur.name);
    return `/${parts.join('/')}`;
  }

  protected describe(n: Node): string {
    return `${this.isDir(n) ? 'directory' : 'file'} "${this.pathOf(n)}"`;
  }

  protected clusterOffset(c: number): bigint {
    return BigInt(this.g.dataOffset) + BigInt(c - 2) * BigInt(this.g.clusterSize);
  }

  protected slotOffset(clusters: number[] | null, i: number): bigint {
    if (!clusters) return BigInt(this.g.rootOffset + i * SLOT);
    const per = this.g.clusterSize / SLOT;
    return this.clusterOffset(clusters[Math.floor(i / per)]!) + BigInt((i % per) * SLOT);
  }

  /** The cluster a directory's ".." names for `dir`: 0 for the root, as on every FAT type. */
  protected dotdotCluster(dir: Node): number {
    return dir.ino === ROOT ? 0 : dir.entry.cluster;
  }

  protected listing(ino: number): Promise<Listing> {
    return this.listings.load(ino, 1, () => this.loadListing(ino));
  }

  protected async loadListing(ino: number): Promise<Listing> {
    const dir = this.dirNode(ino);
    let clusters: number[] | null = null;
    let raw: Buffer;
    if (ino === ROOT && this.g.type !== 32) {
      raw = await this.dev.read(BigInt(this.g.rootOffset), this.g.rootEntries * SLOT);
    } else {
      const first = dir.entry.cluster;
      if (ino !== ROOT) this.checkNoAncestorCluster(dir);
      const max = Math.ceil((MAX_DIR_SLOTS * SLOT) / this.g.clusterSize);
      clusters = await readChain(this.fat, this.dev.name, this.describe(dir), first, max + 1);
      if (clusters.length > max) throw corrupt(this.dev.name, this.describe(dir), `cluster chain from ${first} is longer than a directory's ${max} clusters (${MAX_DIR_SLOTS} entries)`);
      raw = await this.readClusters(clusters, 0, clusters.length * this.g.clusterSize);
    }
    return new Listing(clusters, raw, this.g.type === 32, (c, i) => this.slotOffset(c, i));
  }

  /** A directory whose cluster is that of one of its ancestors would make the tree endless. */
  protected checkNoAncestorCluster(dir: Node): void {
    const c = dir.entry.cluster;
    if (c === 0) throw corrupt(this.dev.name, this.describe(dir), 'has first cluster 0', dir.pos);
    for (let a = this.node(dir.parent), depth = 0; depth < 4096; a = this.node(a.parent), depth++) {
      if (a.ino === ROOT ? this.g.type === 32 && c === this.g.rootCluster : a.entry.cluster === c) {
        throw corrupt(this.dev.name, this.describe(dir), `its first cluster ${c} is that of its ancestor "${this.pathOf(a)}" (directory loop)`, dir.pos);
      }
      if (a.ino === ROOT) break;
    }
  }

  /** The node of a listed record, numbering it on first sight. */
  protected adopt(parent: number, pos: bigint, entry: ShortEntry, name: string): Node {
    let ino = this.inoAt.get(pos);
    if (ino === undefined) {
      ino = Number(pos / BigInt(SLOT));
      if (this.nodes.has(ino)) ino = this.nextSpareIno++;
      this.inoAt.set(pos, ino);
      const n: Node = { ino, parent, pos, entry, name };
      this.nodes.set(ino, n);
      return n;
    }
    return this.node(ino);
  }

  protected nodeOf(parent: number, l: Listing, r: DirRecord): Node {
    return this.adopt(parent, l.slotOffset(r.index), r.entry, r.name);
  }

  protected async child(parent: number, name: string): Promise<Node> {
    const l = await this.listing(parent);
    let key = name;
    while (key.endsWith('.') && key !== '.' && key !== '..') key = key.slice(0, -1);
    const r = l.find(key);
    if (!r) throw new FsError('ENOENT', `${this.pathOf(this.node(parent))}: no entry "${name}"`);
    return this.nodeOf(parent, l, r);
  }

  protected async attrOf(n: Node): Promise<Attr> {
    const e = n.entry;
    const cs = this.g.clusterSize;
    let mode: number;
    let size: number;
    let nlink = 1;
    if (this.isDir(n)) {
      const l = await this.listing(n.ino);
      size = l.clusters ? l.clusters.length * cs : this.g.rootEntries * SLOT;
      nlink = 2 + l.subdirs;
      mode = S_IFDIR | (0o777 & ~this.opts.dmask);
    } else {
      size = e.size;
      mode = S_IFREG | (0o777 & ~this.opts.fmask);
      if (e.attr & ATTR.readOnly) mode &= ~0o222;
    }
    const off = this.opts.offsetMin;
    const isRoot = n.ino === ROOT;
    const zero = { sec: 0, nsec: 0 };
    const mtime = isRoot ? zero : fromDos(e.wrtDate, e.wrtTime, 0, off);
    return {
      ino: n.ino,
      mode,
      nlink,
      uid: this.opts.uid,
      gid: this.opts.gid,
      size,
      blocks: (Math.ceil(size / cs) * cs) / 512,
      atime: isRoot ? zero : fromDos(e.accDate, 0, 0, off),
      mtime,
      ctime: mtime,
      birthtime: isRoot ? zero : fromDos(e.crtDate, e.crtTime, e.crtTenth, off),
      rdev: 0,
    };
  }

  // ---- data ----

  protected async fileChain(n: Node): Promise<number[]> {
    const hit = this.chains.get(n.ino);
    if (hit) return hit;
    const need = Math.ceil(n.entry.size / this.g.clusterSize);
    const chain = await readChain(this.fat, this.dev.name, this.describe(n), n.entry.cluster, need, true);
    // A concurrent reader may have loaded it meanwhile: keep one copy.
    const again = this.chains.get(n.ino);
    if (again) return again;
    this.chains.set(n.ino, chain, chain.length);
    return chain;
  }

  /** Device spans of bytes [offset, offset+length) of a chain, contiguous clusters merged. */
  protected *spans(chain: number[], offset: number, length: number): Generator<{ at: bigint; from: number; len: number }> {
    const cs = this.g.clusterSize;
    for (let done = 0; done < length; ) {
      const pos = offset + done;
      const idx = Math.floor(pos / cs);
      const within = pos % cs;
      let n = 1;
      while (idx + n < chain.length && chain[idx + n] === chain[idx]! + n && n * cs - within < length - done) n++;
      const len = Math.min(n * cs - within, length - done);
      yield { at: this.clusterOffset(chain[idx]!) + BigInt(within), from: done, len };
      done += len;
    }
  }

  protected async readClusters(chain: number[], offset: number, length: number): Promise<Buffer> {
    const spans = [...this.spans(chain, offset, length)];
    // One contiguous run (the common case) needs no second buffer.
    if (spans.length === 1) return this.dev.read(spans[0]!.at, length);
    // The spans cover every byte, so the buffer needs no zero fill; fragments are read at once.
    const out = Buffer.allocUnsafe(length);
    await Promise.all(spans.map(async (s) => void (await this.dev.read(s.at, s.len)).copy(out, s.from)));
    return out;
  }

  // ---- read calls ----

  async lookup(parent: number, name: string): Promise<Attr> {
    this.dirNode(parent);
    return this.attrOf(await this.child(parent, name));
  }

  async getattr(ino: number): Promise<Attr> {
    return this.attrOf(this.node(ino));
  }

  async readdir(ino: number): Promise<DirEntry[]> {
    const l = await this.listing(ino);
    const out: DirEntry[] = [];
    for (const r of l.records) {
      if (!nameUsable(r.name, this.warn, this.dev.name, `directory ${this.pathOf(this.node(ino))}`, l.slotOffset(r.index))) continue;
      const n = this.nodeOf(ino, l, r);
      out.push({ name: n.name, attr: await this.attrOf(n) });
    }
    return out;
  }

  async read(ino: number, offset: number, length: number): Promise<Buffer> {
    const n = this.fileNode(ino);
    const size = n.entry.size;
    if (offset >= size || length <= 0) return Buffer.alloc(0);
    return this.readClusters(await this.fileChain(n), offset, Math.min(length, size - offset));
  }

  async readlink(ino: number): Promise<string> {
    throw new FsError('EINVAL', `${this.pathOf(this.node(ino))}: FAT has no symbolic links`);
  }

  async listxattr(ino: number): Promise<string[]> {
    this.node(ino);
    return [];
  }

  async getxattr(ino: number, name: string): Promise<Buffer> {
    throw new FsError('ENODATA', `${this.pathOf(this.node(ino))}: no extended attribute ${name}`);
  }

  async statfs(): Promise<StatFs> {
    const free = await this.fat.freeCount();
    return { blockSize: this.g.clusterSize, blocks: this.g.clusterCount, freeBlocks: free, availBlocks: free, files: 0, freeFiles: 0, nameMax: NAME_MAX };
  }

  async extents(ino: number): Promise<FileExtent[]> {
    const n = this.fileNode(ino);
    const out: FileExtent[] = [];
    for (const s of this.spans(await this.fileChain(n), 0, n.entry.size)) out.push({ offset: s.from, length: s.len, hole: false });
    return out;
  }

  async close(): Promise<void> {
    await this.fsync();
  }
}
