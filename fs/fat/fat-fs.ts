/**
 * FAT12/16/32 with VFAT long names behind the Filesystem interface: the read path. Writes
 * are in `fat-writer.ts`, a subclass, as ext4's and NTFS's are.
 *
 * Inode numbers say where an entry is (its directory's first cluster and its slot), so a node
 * the bounded table (`node-table.ts`) dropped is found again from its number alone.
 */
import type { BlockDevice } from '../../disk/block-device.js';
import { Lru } from '../../disk/lru.js';
import { FsError, corrupt } from '../errors.js';
import type { Attr, DirEntry, FileExtent, Filesystem, FsIdentity, FsOpenOptions, StatFs } from '../filesystem.js';
import { nameUsable } from '../names.js';
import { UnsupportedWrites } from '../unsupported.js';
import { parseBpb, type Geometry } from './bpb.js';
import { readChain } from './chain.js';
import { ATTR, SLOT, fromDos, parseShort, type ShortEntry } from './dirent.js';
import { isDotName, type DirRecord } from './directory.js';
import { Listing } from './listing.js';
import { FatTable } from './fat-table.js';
import { readFsInfo } from './fsinfo.js';
import { MAX_DIR_SLOTS, NodeTable, ROOT, type Node, type Place } from './node-table.js';
import { parseOptions, type FatOptions } from './options.js';
import { allSettled } from '../../disk/settle.js';

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
/** Linux reports FAT_LFN_LEN × NLS_MAX_CHARSET_SIZE. */
const NAME_MAX = 255 * 6;
/** Directories kept loaded (each up to 2 MiB of entries). */
const MAX_LISTINGS = 64;
const MAX_CHAIN_CLUSTERS = 1 << 21;
/** Nodes kept numbered in memory; others are found again from their numbers. */
export const MAX_NODES = 16384;
/** Directory levels followed up to the root. */
const MAX_DEPTH = 4096;

export class FatFilesystem extends UnsupportedWrites implements Filesystem {
  readonly type = 'vfat';
  readonly rootIno = ROOT;
  /** Nodes numbered so far, bounded; a number handed out stays valid after its node is dropped. */
  readonly nodes: NodeTable;
  /** Loaded directories (re-read when dropped); concurrent callers share one load. */
  protected readonly listings = new Lru<number, Promise<Listing>>(MAX_LISTINGS);
  /** Files' clusters, as far as their sizes need, by inode; bounded by clusters held. */
  protected readonly chains = new Lru<number, number[]>(MAX_CHAIN_CLUSTERS);
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
    maxNodes: number,
  ) {
    super();
    const root: ShortEntry = {
      name: Buffer.alloc(11, 0x20), attr: ATTR.directory, ntres: 0, crtTenth: 0, crtTime: 0, crtDate: 0,
      accDate: 0, wrtTime: 0, wrtDate: 0, cluster: g.type === 32 ? g.rootCluster : 0, size: 0,
    };
    this.nodes = new NodeTable({ ino: ROOT, parent: ROOT, pos: -1n, entry: root, name: '' }, maxNodes, fat.clusterMax);
  }

  /** `maxNodes` bounds the node table (tests make it small). */
  static async open(dev: BlockDevice, o: FsOpenOptions = {}, maxNodes = MAX_NODES): Promise<FatFilesystem> {
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
    const fs = new this(dev, g, fat, opts, fsInfoOffset, writable, maxNodes);
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

  /** The node numbered `ino`: from the table, or found again where its number says it is. */
  protected async node(ino: number): Promise<Node> {
    const hit = this.nodes.get(ino);
    if (hit) return hit;
    const place = this.nodes.placeOf(ino);
    const dir = place && (await this.dirAtCluster(place.dirCluster, 0));
    const l = dir && (await this.listing(dir.ino));
    const r = l?.record(place!.index);
    const n = r && this.nodeOf(dir!.ino, l!, r);
    if (!n || n.ino !== ino) throw new FsError('ENOENT', `${this.dev.name}: no inode ${ino}`);
    return n;
  }

  /**
   * The directory whose first cluster is `c`, or null if none is: its "." and ".." slots name
   * it and its parent, and the parent's listing holds its entry (as Linux's vfat finds a
   * parent from "..").
   */
  private async dirAtCluster(c: number, depth: number): Promise<Node | null> {
    if (c === 0 || (this.g.type === 32 && c === this.g.rootCluster)) return this.nodes.root;
    if (c < 2 || c > this.fat.clusterMax) return null;
    if (depth > MAX_DEPTH) throw corrupt(this.dev.name, `directory at cluster ${c}`, `is more than ${MAX_DEPTH} levels deep (a directory loop)`);
    const at = this.clusterOffset(c);
    const head = await this.dev.read(at, 2 * SLOT);
    const dot = parseShort(head.subarray(0, SLOT), this.g.type === 32);
    const dotdot = parseShort(head.subarray(SLOT), this.g.type === 32);
    if (!isDotName(dot.name) || dot.name[1] === 0x2e || dot.cluster !== c || !isDotName(dotdot.name) || dotdot.name[1] !== 0x2e) return null;
    const parent = await this.dirAtCluster(dotdot.cluster, depth + 1);
    if (!parent) return null;
    const l = await this.listing(parent.ino);
    const r = l.records.find((x) => (x.entry.attr & ATTR.directory) !== 0 && x.entry.cluster === c);
    return r ? this.nodeOf(parent.ino, l, r) : null;
  }

  protected isDir(n: Node): boolean {
    return n.ino === ROOT || (n.entry.attr & ATTR.directory) !== 0;
  }

  protected async dirNode(ino: number): Promise<Node> {
    const n = await this.node(ino);
    if (!this.isDir(n)) throw new FsError('ENOTDIR', `${this.pathOf(n)}: not a directory`);
    return n;
  }

  protected async fileNode(ino: number): Promise<Node> {
    const n = await this.node(ino);
    if (this.isDir(n)) throw new FsError('EISDIR', `${this.pathOf(n)}: is a directory`);
    return n;
  }

  /**
   * The path of a node for messages, as far up as the table holds its directories. Control
   * characters in a damaged image's names are escaped (JSON's way, as fs/names.ts quotes
   * names): a message stays one line.
   */
  protected pathOf(n: Node): string {
    const parts: string[] = [];
    let cur: Node | undefined = n;
    for (let depth = 0; cur && cur.ino !== ROOT && depth < MAX_DEPTH; cur = this.nodes.peek(cur.parent), depth++) parts.unshift(cur.name);
    return JSON.stringify(`${cur?.ino === ROOT ? '' : '…'}/${parts.join('/')}`).slice(1, -1);
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
    const dir = await this.dirNode(ino);
    let clusters: number[] | null = null;
    let raw: Buffer;
    if (ino === ROOT && this.g.type !== 32) {
      raw = await this.dev.read(BigInt(this.g.rootOffset), this.g.rootEntries * SLOT);
    } else {
      const first = dir.entry.cluster;
      if (ino !== ROOT) await this.checkNoAncestorCluster(dir);
      const max = Math.ceil((MAX_DIR_SLOTS * SLOT) / this.g.clusterSize);
      clusters = await readChain(this.fat, this.dev.name, this.describe(dir), first, max + 1);
      if (clusters.length > max) throw corrupt(this.dev.name, this.describe(dir), `cluster chain from ${first} is longer than a directory's ${max} clusters (${MAX_DIR_SLOTS} entries)`);
      raw = await this.readClusters(clusters, 0, clusters.length * this.g.clusterSize);
    }
    const l = new Listing(clusters, raw, this.g.type === 32, (c, i) => this.slotOffset(c, i));
    // Nodes still held keep the entry they change: the listing shares it.
    for (const r of l.records) {
      const held = this.nodes.peek(this.nodes.numberOf(this.placeIn(l, r)));
      if (held && held.pos === l.slotOffset(r.index)) r.entry = held.entry;
    }
    return l;
  }

  /** A directory whose cluster is that of one of its ancestors would make the tree endless. */
  protected async checkNoAncestorCluster(dir: Node): Promise<void> {
    const c = dir.entry.cluster;
    if (c === 0) throw corrupt(this.dev.name, this.describe(dir), 'has first cluster 0', dir.pos);
    for (let a = await this.node(dir.parent), depth = 0; depth < MAX_DEPTH; a = await this.node(a.parent), depth++) {
      if (a.ino === ROOT ? this.g.type === 32 && c === this.g.rootCluster : a.entry.cluster === c) {
        throw corrupt(this.dev.name, this.describe(dir), `its first cluster ${c} is that of its ancestor "${this.pathOf(a)}" (directory loop)`, dir.pos);
      }
      if (a.ino === ROOT) break;
    }
  }

  /** Where a record of a listing sits. */
  protected placeIn(l: Listing, r: DirRecord): Place {
    return { dirCluster: l.clusters?.[0] ?? 0, index: r.index };
  }

  /** The node of a listed record, numbered on first sight. */
  protected nodeOf(parent: number, l: Listing, r: DirRecord): Node {
    const ino = this.nodes.numberOf(this.placeIn(l, r));
    const hit = this.nodes.get(ino);
    if (hit) return hit;
    const n: Node = { ino, parent, pos: l.slotOffset(r.index), entry: r.entry, name: r.name };
    this.nodes.add(n);
    return n;
  }

  protected async child(parent: number, name: string): Promise<Node> {
    const l = await this.listing(parent);
    let key = name;
    while (key.endsWith('.') && key !== '.' && key !== '..') key = key.slice(0, -1);
    const r = l.find(key);
    if (!r) throw new FsError('ENOENT', `${this.pathOf(await this.node(parent))}: no entry "${name}"`);
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
    // The spans cover every byte, so the buffer needs no zero fill.
    const out = Buffer.allocUnsafe(length);
    await this.readClustersInto(chain, offset, out);
    return out;
  }

  /** Bytes from `offset` of a chain into all of `out`, each span read straight into place (fragments at once). */
  protected async readClustersInto(chain: number[], offset: number, out: Buffer): Promise<void> {
    const reads: Promise<void>[] = [];
    for (const s of this.spans(chain, offset, out.length)) reads.push(this.dev.readInto(s.at, out.subarray(s.from, s.from + s.len)));
    await allSettled(reads);
  }

  // ---- read calls ----

  async lookup(parent: number, name: string): Promise<Attr> {
    await this.dirNode(parent);
    return this.attrOf(await this.child(parent, name));
  }

  async getattr(ino: number): Promise<Attr> {
    return this.attrOf(await this.node(ino));
  }

  async readdir(ino: number): Promise<DirEntry[]> {
    const l = await this.listing(ino);
    const where = `directory ${this.pathOf(await this.node(ino))}`;
    const out: DirEntry[] = [];
    for (const r of l.records) {
      if (!nameUsable(r.name, this.warn, this.dev.name, where, l.slotOffset(r.index))) continue;
      const n = this.nodeOf(ino, l, r);
      out.push({ name: n.name, attr: await this.attrOf(n) });
    }
    return out;
  }

  async read(ino: number, offset: number, length: number): Promise<Buffer> {
    const n = await this.fileNode(ino);
    const size = n.entry.size;
    if (offset >= size || length <= 0) return Buffer.alloc(0);
    return this.readClusters(await this.fileChain(n), offset, Math.min(length, size - offset));
  }

  override async readInto(ino: number, offset: number, buf: Buffer): Promise<number> {
    const n = await this.fileNode(ino);
    const size = n.entry.size;
    if (offset >= size || buf.length === 0) return 0;
    const count = Math.min(buf.length, size - offset);
    await this.readClustersInto(await this.fileChain(n), offset, buf.subarray(0, count));
    return count;
  }

  async readlink(ino: number): Promise<string> {
    throw new FsError('EINVAL', `${this.pathOf(await this.node(ino))}: FAT has no symbolic links`);
  }

  async listxattr(ino: number): Promise<string[]> {
    await this.node(ino);
    return [];
  }

  async getxattr(ino: number, name: string): Promise<Buffer> {
    throw new FsError('ENODATA', `${this.pathOf(await this.node(ino))}: no extended attribute ${name}`);
  }

  async statfs(): Promise<StatFs> {
    const free = await this.fat.freeCount();
    return { blockSize: this.g.clusterSize, blocks: this.g.clusterCount, freeBlocks: free, availBlocks: free, files: 0, freeFiles: 0, nameMax: NAME_MAX };
  }

  async extents(ino: number): Promise<FileExtent[]> {
    const n = await this.fileNode(ino);
    const out: FileExtent[] = [];
    for (const s of this.spans(await this.fileChain(n), 0, n.entry.size)) out.push({ offset: s.from, length: s.len, hole: false });
    return out;
  }

  async close(): Promise<void> {
    await this.fsync();
  }
}
