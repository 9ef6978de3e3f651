/**
 * The NTFS driver opened writable: data writes, streams, and changes to the directory tree,
 * on top of the read-only driver's lookups and caches. Every call forgets the cached state
 * of the records it changed. Changes run alone: every driver's filesystems sit behind one
 * readers–writer lock (fs/locked.ts).
 */
import { corrupt, FsError } from '../errors.js';
import type { Attr, Timespec } from '../filesystem.js';
import { INTX } from './attrs.js';
import { AT, ATTR_FLAG } from './attribute.js';
import type { NtfsFile } from './file.js';
import { NAMESPACE, parseFileName } from './filename.js';
import { fileNameValue, fileRef, NamespaceWriter, now } from './namespace.js';
import { FIRST_USER, NtfsFilesystem, ROOT } from './ntfs.js';
import { insertAttribute, newResidentAttr, replaceAttribute } from './record-edit.js';
import { toNtfsTime } from './time.js';
import { setVolumeDirty } from './volume-state.js';
import { NtfsWriter } from './writer.js';

const S_IFMT = 0o170000;

export class NtfsWritable extends NtfsFilesystem {
  private writer?: NtfsWriter;
  private ns?: NamespaceWriter;
  /** Was the volume clean before our first change? Then a clean close() clears the dirty flag again. */
  private wasClean = false;

  override async close(): Promise<void> {
    await super.close();
    if (this.wasClean) await this.markDirty(false);
  }

  private async markDirty(dirty: boolean): Promise<boolean | undefined> {
    const was = await setVolumeDirty(this.mft, dirty, (rec) => this.writerOf(dirty ? 'mount' : 'unmount').writeRecord(rec));
    await this.dev.flush();
    return was;
  }

  private writerOf(op: string): NtfsWriter {
    if (!this.writable) this.refuse(op);
    if (!this.writer) {
      this.writer = new NtfsWriter(this.io, this.mft);
      // Marked in use before the first byte changes (as Linux's ntfs3 marks a read-write
      // mount), so an open that changes nothing writes nothing.
      this.writer.beforeFirstWrite = async () => {
        this.wasClean = (await this.markDirty(true)) === false;
      };
    }
    if (!this.ns) {
      const ns = new NamespaceWriter(this.io, this.mft, this.writer, this.upcase);
      this.writer.records = { alloc: () => ns.allocRecord(), free: (n) => ns.freeRecordBit(n) };
      this.ns = ns;
    }
    return this.writer;
  }

  /** A regular file that may be written: not a directory, link or special file. */
  private async writableFile(ino: number, op: string): Promise<NtfsFile> {
    this.writerOf(op);
    const { file, shown } = await this.load(ino);
    if (shown.kind === 'dir') throw new FsError('EISDIR', `${this.dev.name}: MFT record ${ino} is a directory`);
    if (shown.kind !== 'file') throw new FsError('EINVAL', `${this.dev.name}: MFT record ${ino} is not a regular file`);
    return file;
  }

  /**
   * Refresh the sizes and times that directory entries keep of a file (as ntfs-3g does), so
   * Windows and ntfsls show what $STANDARD_INFORMATION and $DATA say. Entries are patched
   * in place: the key keeps its length.
   */
  private async syncNames(ino: number): Promise<void> {
    const f = await this.mft.file(ino);
    const data = f.find(AT.DATA);
    const si = f.residentValue(AT.STANDARD_INFORMATION);
    if (!data || !si) return;
    const alloc = !data.resident && (data.flags & (ATTR_FLAG.COMPRESSED | ATTR_FLAG.SPARSE)) !== 0 ? data.compSize : data.allocSize;
    for (const a of f.all(AT.FILE_NAME)) {
      const fn = parseFileName(a.value!, this.dev.name, `MFT record ${ino}`);
      const tree = await this.dir(fn.parent);
      const hits = await tree.findIn(
        (k) => this.ns!.compare(a.value!, k),
        (e) => Number(e.raw.readBigUInt64LE(0) & 0xffffffffffffn) === ino,
      );
      const hit = hits.find((h) => Number(h.entry.raw.readBigUInt64LE(0) & 0xffffffffffffn) === ino);
      if (!hit) continue;
      const k = hit.entry.key;
      si.copy(k, 16, 8, 24);
      k.writeBigUInt64LE(BigInt(alloc), 40);
      k.writeBigUInt64LE(BigInt(data.dataSize), 48);
      if (hit.node.vcn >= 0) await tree.writeBlock(hit.node, (st, pos, b) => this.writer!.writeStream(st, pos, b));
      else await this.writer!.writeRecord(tree.file.records.find((r) => r.number === tree.file.all(AT.INDEX_ROOT)[0]!.record)!);
      this.forget(fn.parent);
    }
  }

  override async write(ino: number, offset: number, data: Uint8Array): Promise<number> {
    const f = await this.writableFile(ino, 'write');
    if (!f.has(AT.DATA)) throw new FsError('EIO', `${this.dev.name}: MFT record ${ino} has no $DATA`);
    if (!Number.isSafeInteger(offset + data.length) || offset < 0) throw new FsError('EFBIG', `${this.dev.name}: write at ${offset} lies beyond the largest file size`);
    if (data.length === 0) return 0;
    try {
      await this.writer!.write(f, AT.DATA, '', offset, data);
      this.forget(ino);
      await this.syncNames(ino);
    } finally {
      this.forget(ino);
    }
    return data.length;
  }

  override async truncate(ino: number, size: number): Promise<void> {
    const f = await this.writableFile(ino, 'truncate');
    if (!Number.isSafeInteger(size) || size < 0) throw new FsError('EINVAL', `${this.dev.name}: bad size ${size}`);
    try {
      await this.writer!.truncate(f, AT.DATA, '', size);
      this.forget(ino);
      await this.syncNames(ino);
    } finally {
      this.forget(ino);
    }
  }

  /** user.* attributes are named $DATA streams, as ntfs-3g's streams_interface=xattr. */
  override async setxattr(ino: number, name: string, value: Uint8Array, flags: number): Promise<void> {
    const w = this.writerOf('setxattr');
    if (!name.startsWith('user.') || name.length === 5) throw new FsError('ENOTSUP', `${this.dev.name}: only user.* attributes (alternate data streams) can be set, not ${name}`);
    const stream = name.slice(5);
    if (stream.length > 255 || /[/\:\0]/.test(stream)) throw new FsError('EINVAL', `${this.dev.name}: ${name}: not a valid stream name`);
    const XATTR_CREATE = 1;
    const XATTR_REPLACE = 2;
    try {
      let f = await this.mft.file(ino);
      const exists = f.has(AT.DATA, stream);
      if (exists && flags & XATTR_CREATE) throw new FsError('EEXIST', `${name}: attribute exists`);
      if (!exists && flags & XATTR_REPLACE) throw new FsError('ENODATA', `${name}: no such attribute`);
      if (!exists) {
        // No room for one more attribute: move a resident stream out first (as ntfs-3g).
        const bytes = newResidentAttr(AT.DATA, stream);
        while (f.base.raw.readUInt32LE(24) + bytes.length > f.base.raw.length && (await w.makeRoom(f))) f = await this.mft.file(ino);
        insertAttribute(f.base, bytes, this.dev.name);
        await w.writeRecord(f.base);
        f = await this.mft.file(ino);
      } else {
        await w.truncate(f, AT.DATA, stream, 0);
        f = await this.mft.file(ino);
      }
      if (value.length) await w.write(f, AT.DATA, stream, 0, value);
    } finally {
      this.forget(ino);
    }
  }

  override async removexattr(ino: number, name: string): Promise<void> {
    const w = this.writerOf('removexattr');
    const stream = name.startsWith('user.') ? name.slice(5) : '';
    try {
      const f = await this.mft.file(ino);
      if (!stream || !f.has(AT.DATA, stream)) throw new FsError('ENODATA', `${name}: no such attribute`);
      await w.truncate(f, AT.DATA, stream, 0);
      const g = await this.mft.file(ino);
      const a = g.all(AT.DATA).find((x) => x.name === stream)!;
      const rec = g.records.find((r) => r.number === a.record)!;
      replaceAttribute(rec, a, Buffer.alloc(0), this.dev.name);
      await w.writeRecord(rec);
    } finally {
      this.forget(ino);
    }
  }

  private nsOf(op: string): NamespaceWriter {
    this.writerOf(op);
    return this.ns!;
  }

  private checkName(name: string): void {
    if (name === '' || name === '.' || name === '..' || /[/\0]/.test(name)) throw new FsError('EINVAL', `${JSON.stringify(name)}: not a valid file name`);
    if (name.length > 255) throw new FsError('ENAMETOOLONG', `${name}: longer than 255 UTF-16 units`);
  }

  /** The record named exactly `name` in `parent`, if any. */
  private async exact(parent: number, name: string): Promise<number | undefined> {
    const num = await this.lookupIno(parent, name).catch((e: FsError) => {
      if (e.code === 'ENOENT') return undefined;
      throw e;
    });
    if (num === undefined) return undefined;
    const f = await this.mft.file(num);
    return f.all(AT.FILE_NAME).some((a) => {
      const fn = parseFileName(a.value!, this.dev.name, `MFT record ${num}`);
      return fn.parent === parent && fn.name === name;
    }) ? num : undefined;
  }

  private async makeNode(parent: number, name: string, dir: boolean, op: string, system = false): Promise<number> {
    const ns = this.nsOf(op);
    this.checkName(name);
    const tree = await this.dir(parent);
    if ((await this.exact(parent, name)) !== undefined) throw new FsError('EEXIST', `${name}: file exists`);
    try {
      return await ns.create(await this.mft.file(parent), tree, name, dir, system);
    } finally {
      this.forget(parent);
    }
  }

  override async create(parent: number, name: string): Promise<Attr> {
    return this.getattr(await this.makeNode(parent, name, false, 'create'));
  }

  override async mkdir(parent: number, name: string): Promise<Attr> {
    return this.getattr(await this.makeNode(parent, name, true, 'mkdir'));
  }

  /** Symlinks are made as ntfs-3g makes them: Interix files (system attribute, IntxLNK data). */
  override async symlink(parent: number, name: string, target: string): Promise<Attr> {
    if (target === '' || target.length > 4095) throw new FsError('EINVAL', `symlink target of ${target.length} characters`);
    const ino = await this.makeNode(parent, name, false, 'symlink', true);
    const f = await this.mft.file(ino);
    await this.writer!.write(f, AT.DATA, '', 0, Buffer.concat([Buffer.from(INTX.SYMLINK, 'latin1'), Buffer.from(target, 'utf16le')]));
    this.forget(ino);
    return this.getattr(ino);
  }

  /** Remove name `name` from `parent`; `wantDir` says rmdir or unlink. */
  private async removeName(parent: number, name: string, wantDir: boolean, op: string): Promise<void> {
    const ns = this.nsOf(op);
    const num = await this.exact(parent, name);
    if (num === undefined) throw new FsError('ENOENT', `${name}: no such file or directory`);
    if (num < FIRST_USER) throw new FsError('EPERM', `${name}: NTFS metadata files cannot be removed`);
    const f = await this.mft.file(num);
    if (f.isDir !== wantDir) throw new FsError(wantDir ? 'ENOTDIR' : 'EISDIR', `${name}: ${wantDir ? 'not a directory' : 'is a directory'}`);
    if (wantDir && (await (await this.dir(num)).entries()).length > 0) throw new FsError('ENOTEMPTY', `${name}: directory not empty`);
    const names = this.namesWithPartner(f, parent, name);
    try {
      await ns.removeEntry(await this.mft.file(parent), await this.dir(parent), num, names);
      await ns.dropName(await this.mft.file(num), parent, names);
    } finally {
      this.forget(parent, num);
    }
  }

  /** `name` and, for a Win32 name, its DOS short-name partner in the same directory. */
  private namesWithPartner(f: NtfsFile, parent: number, name: string): Set<string> {
    const names = new Set([name]);
    const fns = f.all(AT.FILE_NAME).map((a) => parseFileName(a.value!, this.dev.name, `MFT record ${f.num}`)).filter((fn) => fn.parent === parent);
    if (fns.some((fn) => fn.name === name && fn.namespace === NAMESPACE.WIN32)) {
      for (const fn of fns) if (fn.namespace === NAMESPACE.DOS) names.add(fn.name);
    }
    return names;
  }

  /** Run `fn`; when the record of `ino` has no room, move a resident stream out and retry. */
  private async roomy<T>(ino: number, fn: () => Promise<T>): Promise<T> {
    for (let tries = 0; ; tries++) {
      try {
        return await fn();
      } catch (e) {
        if (!(e instanceof FsError) || e.code !== 'ENOSPC' || !/has no room/.test(e.message) || tries >= 3) throw e;
        this.forget(ino);
        if (!(await this.writer!.makeRoom(await this.mft.file(ino)))) throw e;
        this.forget(ino);
      }
    }
  }

  override async unlink(parent: number, name: string): Promise<void> {
    await this.removeName(parent, name, false, 'unlink');
  }

  override async rmdir(parent: number, name: string): Promise<void> {
    await this.removeName(parent, name, true, 'rmdir');
  }

  override async link(ino: number, newParent: number, newName: string): Promise<Attr> {
    const ns = this.nsOf('link');
    this.checkName(newName);
    const f = await this.mft.file(ino);
    if (f.isDir) throw new FsError('EPERM', 'hard links to directories are not allowed');
    if ((await this.exact(newParent, newName)) !== undefined) throw new FsError('EEXIST', `${newName}: file exists`);
    const parent = await this.mft.file(newParent);
    const fn = fileNameValue(fileRef(newParent, parent.base.sequence), newName, false, now());
    try {
      await this.roomy(ino, async () => ns.addName(await this.mft.file(ino), fn));
      await ns.addEntry(await this.mft.file(newParent), await this.dir(newParent), { head: refBytes(fileRef(ino, f.base.sequence)), key: fn });
    } finally {
      this.forget(newParent, ino);
    }
    return this.getattr(ino);
  }

  override async rename(parent: number, name: string, newParent: number, newName: string): Promise<void> {
    const ns = this.nsOf('rename');
    this.checkName(newName);
    const num = await this.exact(parent, name);
    if (num === undefined) throw new FsError('ENOENT', `${name}: no such file or directory`);
    if (num < FIRST_USER) throw new FsError('EPERM', `${name}: NTFS metadata files cannot be renamed`);
    const f = await this.mft.file(num);
    if (f.isDir) {
      // Refuse moving a directory into itself or below it.
      for (let cur = newParent, hops = 0; cur !== ROOT && hops < 1024; hops++) {
        if (cur === num) throw new FsError('EINVAL', `${name}: cannot move a directory into itself`);
        const pf = await this.mft.file(cur);
        cur = parseFileName(pf.all(AT.FILE_NAME)[0]!.value!, this.dev.name, `MFT record ${cur}`).parent;
      }
    }
    const target = await this.exact(newParent, newName);
    if (target === num && parent === newParent && name === newName) return;
    const t = target !== undefined && target !== num ? await this.mft.file(target) : undefined;
    if (t && t.isDir !== f.isDir) throw new FsError(t.isDir ? 'EISDIR' : 'ENOTDIR', `${newName}: ${t.isDir ? 'is a directory' : 'not a directory'}`);
    if (t?.isDir && (await (await this.dir(t.num)).entries()).length > 0) throw new FsError('ENOTEMPTY', `${newName}: directory not empty`);
    const names = this.namesWithPartner(f, parent, name);
    const np = await this.mft.file(newParent);
    const fn = fileNameValue(fileRef(newParent, np.base.sequence), newName, f.isDir, now());
    try {
      // The record first: if it has no room for the new name, nothing has changed yet.
      await this.roomy(num, async () => ns.dropName(await this.mft.file(num), parent, names, fn));
      this.forget(num);
      if (t) await this.removeName(newParent, newName, t.isDir, 'rename');
      const add = async () => {
        await ns.addEntry(await this.mft.file(newParent), await this.dir(newParent), { head: refBytes(fileRef(num, f.base.sequence)), key: fn });
        this.forget(newParent);
      };
      const remove = async () => {
        await ns.removeEntry(await this.mft.file(parent), await this.dir(parent), num, names);
        this.forget(parent);
      };
      // The new index entry first, so a crash between the two leaves the file under both names
      // (a link count to fix), never under neither. Only a case change within one directory,
      // whose two keys collate equal, must remove first.
      const caseChange = parent === newParent && [...names].some((n) => n.toUpperCase() === newName.toUpperCase());
      if (caseChange) {
        await remove();
        await add();
      } else {
        await add();
        await remove();
      }
    } finally {
      this.forget(parent, newParent, num);
    }
  }

  /**
   * FIFOs, sockets and device nodes as ntfs-3g makes them (Interix): system files whose data
   * is empty (FIFO), one byte (socket), or IntxCHR/IntxBLK with 64-bit major and minor.
   */
  override async mknod(parent: number, name: string, mode: number, rdev: number): Promise<Attr> {
    const type = mode & S_IFMT;
    let data: Buffer;
    if (type === 0o010000) data = Buffer.alloc(0);
    else if (type === 0o140000) data = Buffer.alloc(1);
    else if (type === 0o020000 || type === 0o060000) {
      data = Buffer.alloc(24);
      data.write(type === 0o020000 ? INTX.CHAR : INTX.BLOCK, 0, 'latin1');
      data.writeBigUInt64LE(BigInt(((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff)), 8);
      data.writeBigUInt64LE(BigInt((rdev & 0xff) | ((rdev >>> 12) & 0xfff00)), 16);
    } else if (type === 0o100000) {
      return this.getattr(await this.makeNode(parent, name, false, 'mknod'));
    } else throw new FsError('EINVAL', `mknod of type 0o${type.toString(8)} is not supported`);
    const ino = await this.makeNode(parent, name, false, 'mknod', true);
    if (data.length) await this.writer!.write(await this.mft.file(ino), AT.DATA, '', 0, data);
    this.forget(ino);
    return this.getattr(ino);
  }

  /** As ntfs-3g without a user mapping ("silent"): ownership and modes come from the mount options. */
  override async chmod(ino: number): Promise<void> {
    this.writerOf('chmod');
    await this.mft.file(ino);
  }

  override async chown(ino: number): Promise<void> {
    this.writerOf('chown');
    await this.mft.file(ino);
  }

  override async utimens(ino: number, atime: Timespec | null, mtime: Timespec | null): Promise<void> {
    const w = this.writerOf('utimens');
    const f = await this.mft.file(ino);
    const si = f.base.attrs.find((a) => a.type === AT.STANDARD_INFORMATION);
    if (!si?.value || si.value.length < 48) throw corrupt(this.dev.name, `MFT record ${ino}`, 'no $STANDARD_INFORMATION', f.base.at);
    if (mtime) si.value.writeBigUInt64LE(toNtfsTime(mtime), 8);
    if (atime) si.value.writeBigUInt64LE(toNtfsTime(atime), 24);
    si.value.writeBigUInt64LE(now(), 16);
    try {
      await w.writeRecord(f.base);
    } finally {
      this.forget(ino);
    }
  }
}

function refBytes(ref: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(ref);
  return b;
}
