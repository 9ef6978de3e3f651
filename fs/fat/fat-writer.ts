/**
 * The FAT driver opened writable: every change call, on top of the read path's node table
 * and caches. Changes run alone (the lock every driver gets, fs/locked.ts); each ends by
 * writing the changed FAT chunks to every mirrored FAT and, on FAT32, the FSInfo free count
 * and next-free hint.
 */
import type { BlockDevice } from '../../disk/block-device.js';
import { FsError, corrupt } from '../errors.js';
import type { Attr, FsOpenOptions, Timespec } from '../filesystem.js';
import { readChain } from './chain.js';
import { ATTR, DELETED, SLOT, encodeShort, parseShort, toDos, type ShortEntry } from './dirent.js';
import { isDotName } from './directory.js';
import { FatFilesystem } from './fat-fs.js';
import { MAX_DIR_SLOTS, ROOT, type Node, type Place } from './node-table.js';
import { writeFsInfo } from './fsinfo.js';
import { encodeLfn } from './lfn.js';
import type { Listing } from './listing.js';
import { checkLongName, chooseShortName } from './shortname.js';
import { setDirtyBit } from './dirty.js';

const MAX_FILE_SIZE = 0xffffffff;
const IO_CHUNK = 1 << 20;

function nowSpec(): Timespec {
  const ms = Date.now();
  return { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1_000_000 };
}

export class FatWritable extends FatFilesystem {
  /** Was the volume clean (dirty bit clear) when opened? Then close() clears it again. */
  private wasClean = false;

  /** A writable open marks the volume in use (the boot sector's dirty bit), as Linux's driver does. */
  static override async open(dev: BlockDevice, o: FsOpenOptions = {}, maxNodes?: number): Promise<FatFilesystem> {
    const fs = (await super.open(dev, o, maxNodes)) as FatWritable;
    if (fs.writable) fs.wasClean = (await setDirtyBit(dev, fs.g.type === 32, true)) === false;
    return fs;
  }

  override async close(): Promise<void> {
    await super.close();
    if (this.wasClean) await setDirtyBit(this.dev, this.g.type === 32, false);
  }

  protected async writeClusters(chain: number[], offset: number, data: Uint8Array): Promise<void> {
    for (const s of this.spans(chain, offset, data.length)) await this.dev.write(s.at, data.subarray(s.from, s.from + s.len));
  }

  protected async zeroRange(chain: number[], from: number, to: number): Promise<void> {
    for (let at = from; at < to; at += IO_CHUNK) await this.writeClusters(chain, at, Buffer.alloc(Math.min(IO_CHUNK, to - at)));
  }

  // ---- write machinery ----

  /** Run a change (alone: the filesystem lock, fs/locked.ts), then write the FAT and FSInfo back whatever happened. */
  protected async mutate<T>(op: string, fn: () => Promise<T>): Promise<T> {
    if (!this.writable) this.refuse(op);
    try {
      return await fn();
    } finally {
      await this.commit();
    }
  }

  protected async commit(): Promise<void> {
    if ((await this.fat.flush()) && this.fsInfoOffset !== undefined) {
      await writeFsInfo(this.dev, this.fsInfoOffset, await this.fat.freeCount(), this.fat.nextFree);
    }
  }

  /** Allocate `count` clusters as one chain, searching from `near`; nothing changes on ENOSPC. */
  protected async allocate(count: number, near?: number): Promise<number[]> {
    if (count === 0) return [];
    const free = await this.fat.freeCount();
    if (free < count) throw new FsError('ENOSPC', `${this.dev.name}: ${count} clusters needed, ${free} free`);
    const out = await this.fat.findFree(count, near);
    if (out.length < count) throw new FsError('ENOSPC', `${this.dev.name}: ${count} clusters needed, ${out.length} found free`);
    for (let i = 0; i < out.length; i++) await this.fat.set(out[i]!, out[i + 1] ?? this.fat.eocMark);
    return out;
  }

  /**
   * Point a chain's tail at clusters just allocated. They reach the disk, end-marked, first:
   * one FAT flush may write its sectors in any order, and a crash that wrote the link alone
   * would leave a chain through a free cluster (fsck.fat: "Contains a free cluster").
   */
  private async linkTail(last: number, first: number): Promise<void> {
    await this.fat.flush();
    await this.fat.set(last, first);
  }

  protected async freeChain(first: number, owner: string): Promise<void> {
    if (first === 0) return;
    for (const c of await readChain(this.fat, this.dev.name, owner, first, this.fat.clusterMax)) await this.fat.set(c, 0);
  }

  protected async writeEntry(n: Node): Promise<void> {
    if (n.ino !== ROOT) await this.dev.write(n.pos, encodeShort(n.entry));
  }

  protected stamp(e: ShortEntry, t: Timespec = nowSpec()): void {
    const d = toDos(t, this.opts.offsetMin);
    e.wrtDate = d.date;
    e.wrtTime = d.time;
  }

  protected freshEntry(name: Buffer, ntres: number, attr: number, cluster: number): ShortEntry {
    const d = toDos(nowSpec(), this.opts.offsetMin);
    return { name, attr, ntres, crtTenth: d.centis, crtTime: d.time, crtDate: d.date, accDate: d.date, wrtTime: d.time, wrtDate: d.date, cluster, size: 0 };
  }

  /** Change a file's size: clusters allocated or freed, new bytes below `zeroTo` zeroed. */
  protected async resize(n: Node, size: number, zeroTo = size): Promise<void> {
    if (size > MAX_FILE_SIZE) throw new FsError('EFBIG', `${this.pathOf(n)}: FAT files end at 4 GiB - 1`);
    const cs = this.g.clusterSize;
    const chain = await this.fileChain(n);
    const need = Math.ceil(size / cs);
    if (need > chain.length) {
      const last = chain[chain.length - 1];
      const added = await this.allocate(need - chain.length, last === undefined ? undefined : last + 1);
      if (last === undefined) n.entry.cluster = added[0]!;
      else await this.linkTail(last, added[0]!);
      chain.push(...added);
      // The chain is on disk before any entry claims its size: a crash then leaves at worst
      // clusters past the end (fsck.fat frees them), never a size the chain does not cover.
      await this.commit();
    } else if (need < chain.length) {
      await this.freeChain(chain[need]!, this.describe(n));
      if (need === 0) n.entry.cluster = 0;
      else await this.fat.set(chain[need - 1]!, this.fat.eocMark);
      chain.length = need;
    }
    this.chains.set(n.ino, chain, chain.length);
    const old = n.entry.size;
    if (zeroTo > old) await this.zeroRange(chain, old, Math.min(zeroTo, size));
    n.entry.size = size;
  }

  protected touch(n: Node): Promise<void> {
    this.stamp(n.entry);
    n.entry.attr |= ATTR.archive;
    return this.writeEntry(n);
  }

  /** Add a zeroed cluster to a directory. */
  protected async extendDir(dir: Node, l: Listing): Promise<void> {
    const cs = this.g.clusterSize;
    if (!l.clusters) throw new FsError('ENOSPC', `${this.dev.name}: the root directory is full (${this.g.rootEntries} entries)`);
    if ((l.clusters.length + 1) * (cs / SLOT) > MAX_DIR_SLOTS) throw new FsError('ENOSPC', `${this.pathOf(dir)}: a FAT directory holds at most ${MAX_DIR_SLOTS} entries`);
    const last = l.clusters[l.clusters.length - 1]!;
    const [c] = await this.allocate(1, last + 1);
    await this.dev.write(this.clusterOffset(c!), Buffer.alloc(cs));
    await this.linkTail(last, c!);
    l.grow(c!, cs);
  }

  /**
   * Write a new entry named `name` into directory `dir`; `make` builds the short entry from the
   * chosen 8.3 name. `self` is an entry being renamed, whose own names do not count as taken.
   */
  protected async insert(dir: Node, name: string, make: (name11: Buffer, ntres: number) => ShortEntry, self?: Node): Promise<Node> {
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
    const rec = { name, entry, first: at, index: at + slots.length - 1 };
    l.add(rec, slots);
    await this.dirChanged(dir);
    if (self) {
      // A renamed entry keeps its number.
      this.nodes.move(self, await this.placeOf(self), this.placeIn(l, rec));
      Object.assign(self, { parent: dir.ino, pos: l.slotOffset(rec.index), entry, name });
      this.nodes.add(self);
      return self;
    }
    return this.nodeOf(dir.ino, l, rec);
  }

  /** Where a node's entry sits now. */
  private async placeOf(n: Node): Promise<Place> {
    const l = await this.listing(n.parent);
    const r = l.at(n.pos);
    if (!r) throw corrupt(this.dev.name, this.describe(n), 'its directory entry is gone', n.pos);
    return this.placeIn(l, r);
  }

  /** A directory's entries changed: its modification and access times move on, as on Linux. */
  protected async dirChanged(dir: Node): Promise<void> {
    if (dir.ino === ROOT) return;
    this.stamp(dir.entry);
    dir.entry.accDate = dir.entry.wrtDate;
    await this.writeEntry(dir);
  }

  /** Mark an entry's slots deleted (its clusters are the caller's business); returns where it was. */
  protected async removeSlots(n: Node): Promise<Place> {
    const place = await this.placeOf(n);
    const l = await this.listing(n.parent);
    const r = l.at(n.pos)!;
    for (let i = r.first; i <= r.index; i++) await this.dev.write(l.slotOffset(i), Buffer.of(DELETED));
    l.remove(r);
    await this.dirChanged(await this.node(n.parent));
    return place;
  }

  protected async removeNode(n: Node): Promise<void> {
    const place = await this.removeSlots(n);
    await this.freeChain(n.entry.cluster, this.describe(n));
    this.nodes.remove(n, place);
    this.listings.delete(n.ino);
    this.chains.delete(n.ino);
  }

  protected async checkEmpty(n: Node): Promise<void> {
    if ((await this.listing(n.ino)).records.length > 0) throw new FsError('ENOTEMPTY', `${this.pathOf(n)}: directory not empty`);
  }

  // ---- write calls ----

  override create(parent: number, name: string, _mode?: number, _uid?: number, _gid?: number): Promise<Attr> {
    return this.mutate('create', async () => {
      const dir = await this.dirNode(parent);
      const n = await this.insert(dir, checkLongName(name), (n11, nt) => this.freshEntry(n11, nt, ATTR.archive, 0));
      return this.attrOf(n);
    });
  }

  override mkdir(parent: number, name: string, _mode?: number, _uid?: number, _gid?: number): Promise<Attr> {
    return this.mutate('mkdir', async () => {
      const dir = await this.dirNode(parent);
      const stored = checkLongName(name);
      if ((await this.listing(dir.ino)).find(stored)) throw new FsError('EEXIST', `${this.pathOf(dir)}: "${stored}" exists`);
      const [c] = await this.allocate(1);
      // The new directory's cluster (zeroed, with . and ..) and its FAT entry reach the disk
      // before the parent names it: a crash in between leaves only a lost cluster.
      const dot = this.freshEntry(Buffer.from('.          ', 'latin1'), 0, ATTR.directory, c!);
      const dotdot = { ...dot, name: Buffer.from('..         ', 'latin1'), cluster: this.dotdotCluster(dir) };
      const block = Buffer.alloc(this.g.clusterSize);
      encodeShort(dot).copy(block, 0);
      encodeShort(dotdot).copy(block, SLOT);
      await this.dev.write(this.clusterOffset(c!), block);
      await this.commit();
      const n = await this.insert(dir, stored, (n11, nt) => this.freshEntry(n11, nt, ATTR.directory, c!)).catch(async (e: unknown) => {
        await this.fat.set(c!, 0);
        throw e;
      });
      return this.attrOf(n);
    });
  }

  override write(ino: number, offset: number, data: Uint8Array): Promise<number> {
    return this.mutate('write', async () => {
      const n = await this.fileNode(ino);
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
      const n = await this.fileNode(ino);
      if (!Number.isSafeInteger(size) || size < 0) throw new FsError('EINVAL', `${this.pathOf(n)}: bad size ${size}`);
      if (size !== n.entry.size) await this.resize(n, size);
      await this.touch(n);
    });
  }

  override unlink(parent: number, name: string): Promise<void> {
    return this.mutate('unlink', async () => {
      const n = await this.child((await this.dirNode(parent)).ino, name);
      if (this.isDir(n)) throw new FsError('EISDIR', `${this.pathOf(n)}: is a directory`);
      await this.removeNode(n);
    });
  }

  override rmdir(parent: number, name: string): Promise<void> {
    return this.mutate('rmdir', async () => {
      const n = await this.child((await this.dirNode(parent)).ino, name);
      if (!this.isDir(n)) throw new FsError('ENOTDIR', `${this.pathOf(n)}: not a directory`);
      await this.checkEmpty(n);
      await this.removeNode(n);
    });
  }

  override rename(parent: number, name: string, newParent: number, newName: string): Promise<void> {
    return this.mutate('rename', async () => {
      const src = await this.child((await this.dirNode(parent)).ino, name);
      const to = await this.dirNode(newParent);
      const stored = checkLongName(newName);
      if (this.isDir(src)) {
        for (let a = to, depth = 0; depth < 4096; a = await this.node(a.parent), depth++) {
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
      const oldParent = await this.node(src.parent);
      const oldNode = { ...src };
      await this.insert(to, stored, (n11, nt) => ({ ...src.entry, name: n11, ntres: nt }), src);
      await this.removeSlots(oldNode);
      if (this.isDir(src) && oldParent.ino !== to.ino) await this.setDotDot(src, to);
    });
  }

  /** Point a moved directory's ".." entry at its new parent. */
  protected async setDotDot(dir: Node, parent: Node): Promise<void> {
    const at = this.clusterOffset(dir.entry.cluster) + BigInt(SLOT);
    const e = parseShort(await this.dev.read(at, SLOT), this.g.type === 32);
    if (!isDotName(e.name) || e.name[1] !== 0x2e) throw corrupt(this.dev.name, this.describe(dir), 'second slot is not ".."', at);
    e.cluster = this.dotdotCluster(parent);
    await this.dev.write(at, encodeShort(e));
  }

  override utimens(ino: number, atime: Timespec | null, mtime: Timespec | null): Promise<void> {
    return this.mutate('utimens', async () => {
      const n = await this.node(ino);
      if (n.ino === ROOT) return;
      if (mtime) this.stamp(n.entry, mtime);
      if (atime) n.entry.accDate = toDos(atime, this.opts.offsetMin).date;
      await this.writeEntry(n);
    });
  }

  override chmod(ino: number, mode: number): Promise<void> {
    return this.mutate('chmod', async () => {
      const n = await this.node(ino);
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
      const n = await this.node(ino);
      if ((uid !== -1 && uid !== this.opts.uid) || (gid !== -1 && gid !== this.opts.gid)) {
        throw new FsError('EPERM', `${this.pathOf(n)}: FAT has no owners (uid=${this.opts.uid}, gid=${this.opts.gid} for all)`);
      }
    });
  }

  override fsync(): Promise<void> {
    if (!this.writable) return Promise.resolve();
    return this.mutate('fsync', () => this.dev.flush());
  }
}
