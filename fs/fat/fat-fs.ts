/**
 * FAT12/16/32 with VFAT long names behind the Filesystem interface, read and write.
 *
 * Inode numbers: the root is 1; every other entry is numbered by the device byte offset of
 * its short directory entry divided by 32 (as Linux keys its inodes by i_pos), so numbers are
 * stable across mounts of an unchanged volume. A renamed entry keeps its number for the rest
 * of the mount; a new entry whose offset-derived number is still held by such a moved entry
 * gets a number above the device's range instead.
 *
 * Writes are serialised; each ends by writing the changed FAT chunks to every mirrored FAT
 * and, on FAT32, the FSInfo free count and next-free hint.
 */
import type { BlockDevice } from '../../disk/block-device.js';
import { FsError, corrupt } from '../errors.js';
import type { Attr, DirEntry, FileExtent, Filesystem, FsOpenOptions, StatFs, Timespec } from '../filesystem.js';
import { UnsupportedWrites } from '../unsupported.js';
import { parseBpb, type Geometry } from './bpb.js';
import { readChain } from './chain.js';
import { ATTR, DELETED, SLOT, encodeShort, fromDos, parseShort, toDos, type ShortEntry } from './dirent.js';
import { isDotName, type DirRecord } from './directory.js';
import { Listing } from './listing.js';
import { FatTable } from './fat-table.js';
import { readFsInfo, writeFsInfo } from './fsinfo.js';
import { encodeLfn } from './lfn.js';
import { parseOptions, type FatOptions } from './options.js';
import { checkLongName, chooseShortName } from './shortname.js';
import { setDirtyBit } from './dirty.js';

const ROOT = 1;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const MAX_DIR_SLOTS = 65536;
const MAX_FILE_SIZE = 0xffffffff;
const IO_CHUNK = 1 << 20;
/** Linux reports FAT_LFN_LEN × NLS_MAX_CHARSET_SIZE. */
const NAME_MAX = 255 * 6;

interface Node {
  ino: number;
  parent: number;
  /** Device byte offset of the short entry (root: -1). */
  pos: bigint;
  entry: ShortEntry;
  name: string;
  /** File clusters, as far as the size needs (cached). */
  chain?: number[];
}

function nowSpec(): Timespec {
  const ms = Date.now();
  return { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1_000_000 };
}

export class FatFilesystem extends UnsupportedWrites implements Filesystem {
  readonly type = 'vfat';
  readonly rootIno = ROOT;
  private readonly nodes = new Map<number, Node>();
  private readonly inoAt = new Map<bigint, number>();
  /** Loaded directories; the promise is cached so concurrent callers share one load. */
  private readonly listings = new Map<number, Promise<Listing>>();
  private nextSpareIno: number;
  /** Was the volume clean (dirty bit clear) when opened writable? Then close() clears it again. */
  private wasClean = false;
  private volumeLabel = '';
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly dev: BlockDevice,
    private readonly g: Geometry,
    private readonly fat: FatTable,
    private readonly opts: FatOptions,
    private readonly fsInfoOffset: number | undefined,
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
    const fs = new FatFilesystem(dev, g, fat, opts, fsInfoOffset, writable);
    const root = await fs.listing(ROOT);
    fs.volumeLabel = root.label ?? g.label;
    if (writable) fs.wasClean = (await setDirtyBit(dev, g.type === 32, true)) === false;
    return fs;
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

  private node(ino: number): Node {
    const n = this.nodes.get(ino);
    if (!n) throw new FsError('ENOENT', `${this.dev.name}: no inode ${ino}`);
    return n;
  }

  private isDir(n: Node): boolean {
    return n.ino === ROOT || (n.entry.attr & ATTR.directory) !== 0;
  }

  private dirNode(ino: number): Node {
    const n = this.node(ino);
    if (!this.isDir(n)) throw new FsError('ENOTDIR', `${this.pathOf(n)}: not a directory`);
    return n;
  }

  private fileNode(ino: number): Node {
    const n = this.node(ino);
    if (this.isDir(n)) throw new FsError('EISDIR', `${this.pathOf(n)}: is a directory`);
    return n;
  }

  private pathOf(n: Node): string {
    const parts: string[] = [];
    for (let cur = n, depth = 0; cur.ino !== ROOT && depth < 4096; cur = this.node(cur.parent), depth++) parts.unshift(cur.name);
    return `/${parts.join('/')}`;
  }

  private describe(n: Node): string {
    return `${this.isDir(n) ? 'directory' : 'file'} "${this.pathOf(n)}"`;
  }

  private clusterOffset(c: number): bigint {
    return BigInt(this.g.dataOffset) + BigInt(c - 2) * BigInt(this.g.clusterSize);
  }

  private slotOffset(clusters: number[] | null, i: number): bigint {
    if (!clusters) return BigInt(this.g.rootOffset + i * SLOT);
    const per = this.g.clusterSize / SLOT;
    return this.clusterOffset(clusters[Math.floor(i / per)]!) + BigInt((i % per) * SLOT);
  }

  /** The cluster a directory's ".." names for `dir`: 0 for the root, as on every FAT type. */
  private dotdotCluster(dir: Node): number {
    return dir.ino === ROOT ? 0 : dir.entry.cluster;
  }

  private listing(ino: number): Promise<Listing> {
    let l = this.listings.get(ino);
    if (!l) {
      l = this.loadListing(ino);
      this.listings.set(ino, l);
      l.catch(() => this.listings.delete(ino));
    }
    return l;
  }

  private async loadListing(ino: number): Promise<Listing> {
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
  private checkNoAncestorCluster(dir: Node): void {
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
  private adopt(parent: number, pos: bigint, entry: ShortEntry, name: string): Node {
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

  private nodeOf(parent: number, l: Listing, r: DirRecord): Node {
    return this.adopt(parent, l.slotOffset(r.index), r.entry, r.name);
  }

  private async child(parent: number, name: string): Promise<Node> {
    const l = await this.listing(parent);
    let key = name;
    while (key.endsWith('.') && key !== '.' && key !== '..') key = key.slice(0, -1);
    const r = l.find(key);
    if (!r) throw new FsError('ENOENT', `${this.pathOf(this.node(parent))}: no entry "${name}"`);
    return this.nodeOf(parent, l, r);
  }

  private async attrOf(n: Node): Promise<Attr> {
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

  private async fileChain(n: Node): Promise<number[]> {
    if (!n.chain) {
      const need = Math.ceil(n.entry.size / this.g.clusterSize);
      const chain = await readChain(this.fat, this.dev.name, this.describe(n), n.entry.cluster, need, true);
      // A concurrent caller may have loaded (and a write extended) it meanwhile: keep that one.
      n.chain ??= chain;
    }
    return n.chain;
  }

  /** Device spans of bytes [offset, offset+length) of a chain, contiguous clusters merged. */
  private *spans(chain: number[], offset: number, length: number): Generator<{ at: bigint; from: number; len: number }> {
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

  private async readClusters(chain: number[], offset: number, length: number): Promise<Buffer> {
    const spans = [...this.spans(chain, offset, length)];
    // One contiguous run (the common case) needs no second buffer.
    if (spans.length === 1) return this.dev.read(spans[0]!.at, length);
    const out = Buffer.alloc(length);
    for (const s of spans) (await this.dev.read(s.at, s.len)).copy(out, s.from);
    return out;
  }

  private async writeClusters(chain: number[], offset: number, data: Uint8Array): Promise<void> {
    for (const s of this.spans(chain, offset, data.length)) await this.dev.write(s.at, data.subarray(s.from, s.from + s.len));
  }

  private async zeroRange(chain: number[], from: number, to: number): Promise<void> {
    for (let at = from; at < to; at += IO_CHUNK) await this.writeClusters(chain, at, Buffer.alloc(Math.min(IO_CHUNK, to - at)));
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

  // ---- write machinery ----

  /** Run a change alone, then write the FAT and FSInfo back whatever happened. */
  private async mutate<T>(op: string, fn: () => Promise<T>): Promise<T> {
    if (!this.writable) this.refuse(op);
    const run = this.queue.then(async () => {
      try {
        return await fn();
      } finally {
        await this.commit();
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async commit(): Promise<void> {
    if ((await this.fat.flush()) && this.fsInfoOffset !== undefined) {
      await writeFsInfo(this.dev, this.fsInfoOffset, await this.fat.freeCount(), this.fat.nextFree);
    }
  }

  /** Allocate `count` clusters as one chain, searching from `near`; nothing changes on ENOSPC. */
  private async allocate(count: number, near?: number): Promise<number[]> {
    if (count === 0) return [];
    const free = await this.fat.freeCount();
    if (free < count) throw new FsError('ENOSPC', `${this.dev.name}: ${count} clusters needed, ${free} free`);
    const out = await this.fat.findFree(count, near);
    if (out.length < count) throw new FsError('ENOSPC', `${this.dev.name}: ${count} clusters needed, ${out.length} found free`);
    for (let i = 0; i < out.length; i++) await this.fat.set(out[i]!, out[i + 1] ?? this.fat.eocMark);
    return out;
  }

  private async freeChain(first: number, owner: string): Promise<void> {
    if (first === 0) return;
    for (const c of await readChain(this.fat, this.dev.name, owner, first, this.fat.clusterMax)) await this.fat.set(c, 0);
  }

  private async writeEntry(n: Node): Promise<void> {
    if (n.ino !== ROOT) await this.dev.write(n.pos, encodeShort(n.entry));
  }

  private stamp(e: ShortEntry, t: Timespec = nowSpec()): void {
    const d = toDos(t, this.opts.offsetMin);
    e.wrtDate = d.date;
    e.wrtTime = d.time;
  }

  private freshEntry(name: Buffer, ntres: number, attr: number, cluster: number): ShortEntry {
    const d = toDos(nowSpec(), this.opts.offsetMin);
    return { name, attr, ntres, crtTenth: d.centis, crtTime: d.time, crtDate: d.date, accDate: d.date, wrtTime: d.time, wrtDate: d.date, cluster, size: 0 };
  }

  /** Change a file's size: clusters allocated or freed, new bytes below `zeroTo` zeroed. */
  private async resize(n: Node, size: number, zeroTo = size): Promise<void> {
    if (size > MAX_FILE_SIZE) throw new FsError('EFBIG', `${this.pathOf(n)}: FAT files end at 4 GiB - 1`);
    const cs = this.g.clusterSize;
    const chain = await this.fileChain(n);
    const need = Math.ceil(size / cs);
    if (need > chain.length) {
      const last = chain[chain.length - 1];
      const added = await this.allocate(need - chain.length, last === undefined ? undefined : last + 1);
      if (last === undefined) n.entry.cluster = added[0]!;
      else await this.fat.set(last, added[0]!);
      chain.push(...added);
    } else if (need < chain.length) {
      await this.freeChain(chain[need]!, this.describe(n));
      if (need === 0) n.entry.cluster = 0;
      else await this.fat.set(chain[need - 1]!, this.fat.eocMark);
      chain.length = need;
    }
    const old = n.entry.size;
    if (zeroTo > old) await this.zeroRange(chain, old, Math.min(zeroTo, size));
    n.entry.size = size;
  }

  private touch(n: Node): Promise<void> {
    this.stamp(n.entry);
    n.entry.attr |= ATTR.archive;
    return this.writeEntry(n);
  }

  /** Add a zeroed cluster to a directory. */
  private async extendDir(dir: Node, l: Listing): Promise<void> {
    const cs = this.g.clusterSize;
    if (!l.clusters) throw new FsError('ENOSPC', `${this.dev.name}: the root directory is full (${this.g.rootEntries} entries)`);
    if ((l.clusters.length + 1) * (cs / SLOT) > MAX_DIR_SLOTS) throw new FsError('ENOSPC', `${this.pathOf(dir)}: a FAT directory holds at most ${MAX_DIR_SLOTS} entries`);
    const last = l.clusters[l.clusters.length - 1]!;
    const [c] = await this.allocate(1, last + 1);
    await this.dev.write(this.clusterOffset(c!), Buffer.alloc(cs));
    await this.fat.set(last, c!);
    l.grow(c!, cs);
  }

  /**
   * Write a new entry named `name` into directory `dir`; `make` builds the short entry from the
   * chosen 8.3 name. `self` is an entry being renamed, whose own names do not count as taken.
   */
  private async insert(dir: Node, name: string, make: (name11: Buffer, ntres: number) => ShortEntry, self?: Node): Promise<Node> {
    const l = await this.listing(dir.ino);
    const existing = l.find(name);
    if (existing && l.slotOffset(existing.index) !== self?.pos) throw new FsError('EEXIST', `${this.pathOf(dir)}: "${name}" exists`);
    // A rename within one directory may reuse its own short name: the old slots go after.
    const own = self && self.parent === dir.ino ? self.entry.name.toString('latin1') : undefined;
    const choice = chooseShortName(name, (k) => k !== own && l.hasShort(k), this.opts.winnt);
    const entry = make(choice.name11, choice.ntres);
    const slots = [...(choice.needLong ? encodeLfn(name, choice.name11) : []), encodeShort(entry)];
    let at = l.freeRun(slots.length);
    while (at < 0) {
      await this.extendDir(dir, l);
      at = l.freeRun(slots.length);
    }
    for (let i = 0; i < slots.length; i++) await this.dev.write(l.slotOffset(at + i), slots[i]!);
    const pos = l.slotOffset(at + slots.length - 1);
    l.add({ name, entry, first: at, index: at + slots.length - 1 }, slots);
    await this.dirChanged(dir);
    if (self) {
      this.inoAt.delete(self.pos);
      this.inoAt.set(pos, self.ino);
      Object.assign(self, { parent: dir.ino, pos, entry, name });
      return self;
    }
    return this.adopt(dir.ino, pos, entry, name);
  }

  /** A directory's entries changed: its modification and access times move on, as on Linux. */
  private async dirChanged(dir: Node): Promise<void> {
    if (dir.ino === ROOT) return;
    this.stamp(dir.entry);
    dir.entry.accDate = dir.entry.wrtDate;
    await this.writeEntry(dir);
  }

  /** Mark an entry's slots deleted (its clusters are the caller's business). */
  private async removeSlots(n: Node): Promise<void> {
    const l = await this.listing(n.parent);
    const r = l.at(n.pos);
    if (!r) throw corrupt(this.dev.name, this.describe(n), 'its directory entry is gone', n.pos);
    for (let i = r.first; i <= r.index; i++) await this.dev.write(l.slotOffset(i), Buffer.of(DELETED));
    l.remove(r);
    await this.dirChanged(this.node(n.parent));
  }

  private forget(n: Node): void {
    this.nodes.delete(n.ino);
    this.inoAt.delete(n.pos);
    this.listings.delete(n.ino);
  }

  private async removeNode(n: Node): Promise<void> {
    await this.removeSlots(n);
    await this.freeChain(n.entry.cluster, this.describe(n));
    this.forget(n);
  }

  private async checkEmpty(n: Node): Promise<void> {
    if ((await this.listing(n.ino)).records.length > 0) throw new FsError('ENOTEMPTY', `${this.pathOf(n)}: directory not empty`);
  }

  // ---- write calls ----

  override create(parent: number, name: string, _mode?: number, _uid?: number, _gid?: number): Promise<Attr> {
    return this.mutate('create', async () => {
      const dir = this.dirNode(parent);
      const n = await this.insert(dir, checkLongName(name), (n11, nt) => this.freshEntry(n11, nt, ATTR.archive, 0));
      return this.attrOf(n);
    });
  }

  override mkdir(parent: number, name: string, _mode?: number, _uid?: number, _gid?: number): Promise<Attr> {
    return this.mutate('mkdir', async () => {
      const dir = this.dirNode(parent);
      const stored = checkLongName(name);
      if ((await this.listing(dir.ino)).find(stored)) throw new FsError('EEXIST', `${this.pathOf(dir)}: "${stored}" exists`);
      const [c] = await this.allocate(1);
      await this.dev.write(this.clusterOffset(c!), Buffer.alloc(this.g.clusterSize));
      const n = await this.insert(dir, stored, (n11, nt) => this.freshEntry(n11, nt, ATTR.directory, c!)).catch(async (e: unknown) => {
        await this.fat.set(c!, 0);
        throw e;
      });
      const dot = { ...n.entry, name: Buffer.from('.          ', 'latin1'), ntres: 0 };
      const dotdot = { ...dot, name: Buffer.from('..         ', 'latin1'), cluster: this.dotdotCluster(dir) };
      await this.dev.write(this.clusterOffset(c!), Buffer.concat([encodeShort(dot), encodeShort(dotdot)]));
      return this.attrOf(n);
    });
  }

  override write(ino: number, offset: number, data: Uint8Array): Promise<number> {
    return this.mutate('write', async () => {
      const n = this.fileNode(ino);
      const end = offset + data.length;
      if (!Number.isSafeInteger(offset) || offset < 0) throw new FsError('EINVAL', `${this.pathOf(n)}: bad offset ${offset}`);
      if (data.length === 0) return 0;
      if (end > n.entry.size) await this.resize(n, end, offset);
      await this.writeClusters(await this.fileChain(n), offset, data);
      await this.touch(n);
      return data.length;
    });
  }

  override truncate(ino: number, size: number): Promise<void> {
    return this.mutate('truncate', async () => {
      const n = this.fileNode(ino);
      if (!Number.isSafeInteger(size) || size < 0) throw new FsError('EINVAL', `${this.pathOf(n)}: bad size ${size}`);
      if (size !== n.entry.size) await this.resize(n, size);
      await this.touch(n);
    });
  }

  override unlink(parent: number, name: string): Promise<void> {
    return this.mutate('unlink', async () => {
      const n = await this.child(this.dirNode(parent).ino, name);
      if (this.isDir(n)) throw new FsError('EISDIR', `${this.pathOf(n)}: is a directory`);
      await this.removeNode(n);
    });
  }

  override rmdir(parent: number, name: string): Promise<void> {
    return this.mutate('rmdir', async () => {
      const n = await this.child(this.dirNode(parent).ino, name);
      if (!this.isDir(n)) throw new FsError('ENOTDIR', `${this.pathOf(n)}: not a directory`);
      await this.checkEmpty(n);
      await this.removeNode(n);
    });
  }

  override rename(parent: number, name: string, newParent: number, newName: string): Promise<void> {
    return this.mutate('rename', async () => {
      const src = await this.child(this.dirNode(parent).ino, name);
      const to = this.dirNode(newParent);
      const stored = checkLongName(newName);
      if (this.isDir(src)) {
        for (let a = to, depth = 0; depth < 4096; a = this.node(a.parent), depth++) {
          if (a.ino === src.ino) throw new FsError('EINVAL', `cannot move ${this.pathOf(src)} into itself (${this.pathOf(to)})`);
          if (a.ino === ROOT) break;
        }
      }
      const existing = (await this.listing(to.ino)).find(stored);
      const dst = existing ? await this.child(to.ino, stored) : undefined;
      if (dst && dst.ino === src.ino && src.name === stored) return;
      if (dst && dst.ino !== src.ino) {
        if (this.isDir(dst) && !this.isDir(src)) throw new FsError('EISDIR', `${this.pathOf(dst)}: is a directory`);
        if (!this.isDir(dst) && this.isDir(src)) throw new FsError('ENOTDIR', `${this.pathOf(dst)}: not a directory`);
        if (this.isDir(dst)) await this.checkEmpty(dst);
        await this.removeNode(dst);
      }
      const oldParent = this.node(src.parent);
      const oldNode = { ...src };
      await this.insert(to, stored, (n11, nt) => ({ ...src.entry, name: n11, ntres: nt }), src);
      await this.removeSlots(oldNode);
      if (this.isDir(src) && oldParent.ino !== to.ino) await this.setDotDot(src, to);
    });
  }

  /** Point a moved directory's ".." entry at its new parent. */
  private async setDotDot(dir: Node, parent: Node): Promise<void> {
    const at = this.clusterOffset(dir.entry.cluster) + BigInt(SLOT);
    const e = parseShort(await this.dev.read(at, SLOT), this.g.type === 32);
    if (!isDotName(e.name) || e.name[1] !== 0x2e) throw corrupt(this.dev.name, this.describe(dir), 'second slot is not ".."', at);
    e.cluster = this.dotdotCluster(parent);
    await this.dev.write(at, encodeShort(e));
  }

  override utimens(ino: number, atime: Timespec | null, mtime: Timespec | null): Promise<void> {
    return this.mutate('utimens', async () => {
      const n = this.node(ino);
      if (n.ino === ROOT) return;
      if (mtime) this.stamp(n.entry, mtime);
      if (atime) n.entry.accDate = toDos(atime, this.opts.offsetMin).date;
      await this.writeEntry(n);
    });
  }

  override chmod(ino: number, mode: number): Promise<void> {
    return this.mutate('chmod', async () => {
      const n = this.node(ino);
      const full = 0o777 & ~(this.isDir(n) ? this.opts.dmask : this.opts.fmask);
      const perm = mode & 0o777;
      // Like Linux vfat: only the read-only attribute can change, by taking all write bits away.
      if (perm !== full && (this.isDir(n) || perm !== (full & ~0o222))) {
        throw new FsError('EPERM', `${this.pathOf(n)}: FAT cannot store mode ${perm.toString(8)}`);
      }
      if (this.isDir(n)) return;
      n.entry.attr = perm === full ? n.entry.attr & ~ATTR.readOnly : n.entry.attr | ATTR.readOnly;
      await this.writeEntry(n);
    });
  }

  override chown(ino: number, uid: number, gid: number): Promise<void> {
    return this.mutate('chown', async () => {
      const n = this.node(ino);
      if ((uid !== -1 && uid !== this.opts.uid) || (gid !== -1 && gid !== this.opts.gid)) {
        throw new FsError('EPERM', `${this.pathOf(n)}: FAT has no owners (uid=${this.opts.uid}, gid=${this.opts.gid} for all)`);
      }
    });
  }

  override fsync(): Promise<void> {
    if (!this.writable) return Promise.resolve();
    return this.mutate('fsync', () => this.dev.flush());
  }

  async close(): Promise<void> {
    if (!this.writable) return;
    await this.fsync();
    if (this.wasClean) await setDirtyBit(this.dev, this.g.type === 32, false);
  }
}
