/**
 * guestkit's NTFS driver: the Filesystem interface over boot sector, $MFT, attributes and
 * index trees. Inode numbers are MFT record numbers, as ntfs-3g shows them.
 */
import { Lru } from '../../disk/lru.js';
import type { BlockDevice } from '../../disk/block-device.js';
import { corrupt, FsError } from '../errors.js';
import type { Attr, DirEntry, FileExtent, Filesystem, FsOpenOptions, StatFs } from '../filesystem.js';
import { nameUsable } from '../names.js';
import { UnsupportedWrites } from '../unsupported.js';
import { buildAttr, classify, FILE_ATTR, INTX_MAX, ownership, stdInfo, type Ownership, type Shown, type StdInfo } from './attrs.js';
import { AT, ATTR_FLAG } from './attribute.js';
import { ntfsUuid, readBoot, type BootSector } from './boot.js';
import type { NtfsFile } from './file.js';
import { NAMESPACE, parseFileName } from './filename.js';
import { IndexTree } from './index.js';
import { Mft } from './mft.js';
import { parseLinkTarget } from './reparse.js';
import { SecureStore } from './security.js';
import { AttrStream, isCompressed, refuseEncrypted, type VolumeIo } from './stream.js';
import { compareKeys, UpCase } from './upcase.js';
import { logFileProblem, volumeInfo, type VolumeInfo } from './volume-state.js';

export const ROOT = 5;
const UPCASE = 10;
const BITMAP = 6;
export const FIRST_USER = 16;
const MAX_XATTR = 1 << 16;
const LOADED_CACHE = 32768;
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;

interface Loaded {
  file: NtfsFile;
  si: StdInfo;
  shown: Shown;
  attr: Attr;
}

export class NtfsFilesystem extends UnsupportedWrites implements Filesystem {
  readonly type = 'ntfs';
  readonly rootIno = ROOT;
  private secure?: Promise<SecureStore | undefined>;
  private dirs = new Lru<number, IndexTree>(256);
  private loaded = new Lru<number, Loaded>(LOADED_CACHE);
  /** The open options' warn: damage that is skipped, not refused. */
  protected warn?: (m: string) => void;

  protected constructor(
    readonly dev: BlockDevice,
    readonly io: VolumeIo,
    readonly boot: BootSector,
    readonly mft: Mft,
    readonly upcase: UpCase,
    readonly vol: VolumeInfo,
    readonly own: Ownership,
    readonly writable: boolean,
  ) {
    super();
  }

  static async open(dev: BlockDevice, opts: FsOpenOptions = {}): Promise<NtfsFilesystem> {
    const boot = await readBoot(dev, opts.warn);
    const io: VolumeIo = { dev, clusterSize: boot.clusterSize, totalClusters: boot.totalClusters };
    const mft = await Mft.open(io, boot, opts.warn);
    const uc = await mft.file(UPCASE);
    const ucData = uc.find(AT.DATA);
    if (!ucData || ucData.dataSize < 256) throw corrupt(dev.name, '$UpCase', 'missing or too small', uc.base.at);
    const upcase = UpCase.fromBuffer(await new AttrStream(io, ucData, '$UpCase').read(0, Math.min(ucData.dataSize, 131072)));
    const vol = await volumeInfo(mft);
    const own = ownership(opts.options);
    const writable = opts.writable === true;
    if (writable && !dev.canWrite()) throw new FsError('EROFS', `${dev.name}: device is read-only, cannot open NTFS writable`);
    // A subclass (the writable driver) opens through here too: `this` builds it, once. Its
    // writer starts only at the first change, so the checks below write nothing.
    const fs = new this(dev, io, boot, mft, upcase, vol, own, writable);
    fs.warn = opts.warn;
    const unsafe = await fs.unsafeReason();
    if (unsafe) {
      if (writable && opts.options?.force === undefined) {
        throw new FsError('EROFS', `${dev.name}: ${unsafe}; refusing to write (mount read-only, or pass option force)`);
      }
      opts.warn?.(`${dev.name}: ${unsafe}; ${writable ? 'writing anyway (force)' : 'mounted read-only'}`);
    }
    return fs;
  }

  /** Dirty or hibernated: why writes could lose Windows' pending changes. */
  private async unsafeReason(): Promise<string | undefined> {
    const reasons: string[] = [];
    if (this.vol.dirty) reasons.push('volume is marked dirty');
    const log = await logFileProblem(this.mft);
    if (log) reasons.push(log);
    const hiber = await this.hibernated();
    if (hiber) reasons.push(hiber);
    return reasons.length ? reasons.join('; ') : undefined;
  }

  /**
   * Whether hiberfil.sys says Windows is hibernated. An answer that cannot be read counts as
   * hibernated (fail closed): only a missing file means no hibernation.
   */
  private async hibernated(): Promise<string | undefined> {
    try {
      const hiber = await this.lookup(ROOT, 'hiberfil.sys');
      if ((hiber.mode & S_IFMT) === S_IFDIR) return undefined;
      const head = (await this.read(hiber.ino, 0, 4)).toString('latin1').toLowerCase();
      return head === 'hibr' ? 'Windows is hibernated (hiberfil.sys)' : undefined;
    } catch (e) {
      if (e instanceof FsError && e.code === 'ENOENT') return undefined;
      return `cannot tell whether Windows is hibernated (hiberfil.sys: ${(e as Error).message})`;
    }
  }

  label(): string {
    return this.vol.label;
  }

  uuid(): string {
    return ntfsUuid(this.boot);
  }

  protected async load(ino: number): Promise<Loaded> {
    const hit = this.loaded.get(ino);
    if (hit) return hit;
    const l = await this.loadUncached(ino);
    this.loaded.set(ino, l);
    return l;
  }

  private async loadUncached(ino: number): Promise<Loaded> {
    const file = await this.mft.file(ino);
    const si = stdInfo(file);
    const reparse = file.has(AT.REPARSE_POINT) ? await this.attrBytes(file, AT.REPARSE_POINT, '', MAX_XATTR) : undefined;
    const data = file.find(AT.DATA);
    const head = !file.isDir && data && (si.attributes & FILE_ATTR.SYSTEM) !== 0 && data.dataSize <= INTX_MAX && !isCompressed(data)
      ? await new AttrStream(this.io, data, `MFT record ${ino} $DATA`).read(0, 24)
      : undefined;
    const shown = classify(file, si, reparse, head);
    let linkSize = 0;
    if (shown.kind === 'reparse-link' || shown.kind === 'intx-link') linkSize = Buffer.byteLength(await this.linkTarget(file, shown, reparse));
    return { file, si, shown, attr: buildAttr(file, si, shown, this.own, linkSize) };
  }

  private async attrBytes(file: NtfsFile, type: number, name: string, cap: number): Promise<Buffer> {
    const a = file.find(type, name)!;
    if (a.dataSize > cap) throw new FsError('ERANGE', `${this.dev.name}: MFT record ${file.num} attribute 0x${type.toString(16)} "${name}" of ${a.dataSize} bytes is larger than ${cap}`);
    if ((a.flags & ATTR_FLAG.ENCRYPTED) !== 0) refuseEncrypted(`${this.dev.name}: MFT record ${file.num}`);
    return new AttrStream(this.io, a, `MFT record ${file.num} attribute 0x${type.toString(16)}${name ? ` "${name}"` : ''}`).read(0, a.dataSize);
  }

  async getattr(ino: number): Promise<Attr> {
    return (await this.load(ino)).attr;
  }

  protected async dir(ino: number): Promise<IndexTree> {
    const hit = this.dirs.get(ino);
    if (hit) return hit;
    const f = await this.mft.file(ino);
    if (!f.isDir || !f.has(AT.INDEX_ROOT, '$I30')) throw new FsError('ENOTDIR', `${this.dev.name}: MFT record ${ino} is not a directory`);
    const t = await IndexTree.open(this.io, f, '$I30');
    this.dirs.set(ino, t);
    return t;
  }

  /** Forget cached state of these records after a change. */
  protected forget(...inos: number[]): void {
    for (const i of inos) {
      this.mft.forget(i);
      this.dirs.delete(i);
      this.loaded.delete(i);
    }
  }

  /** MFT record named `name` in directory `parent` (case-insensitive, exact case preferred). */
  protected async lookupIno(parent: number, name: string): Promise<number> {
    const tree = await this.dir(parent);
    const want = this.upcase.key(name);
    const nameOf = (k: Buffer): string => k.toString('utf16le', 66, 66 + k[64]! * 2);
    const hits = await tree.find(
      (k) => {
        if (k.length < 66 || 66 + k[64]! * 2 > k.length) throw corrupt(this.dev.name, tree.what, 'index key is not a $FILE_NAME');
        return compareKeys(want, this.upcase.keyAt(k, 66, k[64]!));
      },
      (e) => nameOf(e.key) === name,
    );
    const best = hits.find((e) => nameOf(e.key) === name) ?? hits[0];
    if (!best) throw new FsError('ENOENT', `${name}: no such file or directory`);
    return this.refTarget(best.raw, tree.what);
  }

  private async refTarget(raw: Buffer, what: string): Promise<number> {
    const ref = raw.readBigUInt64LE(0);
    const num = Number(ref & 0xffffffffffffn);
    const seq = Number(ref >> 48n);
    const f = await this.mft.file(num).catch((e: Error) => {
      throw corrupt(this.dev.name, what, `entry points to MFT record ${num}: ${e.message}`);
    });
    if (seq !== 0 && f.base.sequence !== seq) throw corrupt(this.dev.name, what, `stale entry for MFT record ${num} (sequence ${seq}, record has ${f.base.sequence})`);
    return num;
  }

  async lookup(parent: number, name: string): Promise<Attr> {
    return this.getattr(await this.lookupIno(parent, name));
  }

  async readdir(ino: number): Promise<DirEntry[]> {
    const tree = await this.dir(ino);
    const names: { name: string; num: number }[] = [];
    for (const e of await tree.entries()) {
      const fn = parseFileName(e.key, this.dev.name, tree.what);
      if (fn.namespace === NAMESPACE.DOS) continue;
      const num = Number(e.raw.readBigUInt64LE(0) & 0xffffffffffffn);
      // ntfs-3g hides the metadata files ($MFT, $Bitmap, $Extend...), and with them the
      // root's own "." entry (record 5), which every NTFS root holds: no warning for it.
      if (num < FIRST_USER) continue;
      if (!nameUsable(fn.name, this.warn, this.dev.name, tree.what, e.at)) continue;
      names.push({ name: fn.name, num });
    }
    const out: DirEntry[] = new Array(names.length);
    const missing: number[] = [];
    names.forEach((n, i) => {
      const hit = this.loaded.get(n.num);
      if (hit) out[i] = { name: n.name, attr: hit.attr };
      else missing.push(i);
    });
    // Records not cached yet are read in batches: neighbours share $MFT chunks.
    const BATCH = 64;
    for (let b = 0; b < missing.length; b += BATCH) {
      await Promise.all(missing.slice(b, b + BATCH).map(async (i) => {
        out[i] = { name: names[i]!.name, attr: await this.getattr(names[i]!.num) };
      }));
    }
    return out;
  }

  async read(ino: number, offset: number, length: number): Promise<Buffer> {
    return (await this.dataStream(ino))?.read(offset, length) ?? Buffer.alloc(0);
  }

  override async readInto(ino: number, offset: number, buf: Buffer): Promise<number> {
    return (await this.dataStream(ino))?.readInto(offset, buf) ?? 0;
  }

  /** A file's unnamed $DATA, or undefined when it has none. */
  private async dataStream(ino: number): Promise<AttrStream | undefined> {
    const { file, si, shown } = await this.load(ino);
    if (shown.kind === 'dir') throw new FsError('EISDIR', `${this.dev.name}: MFT record ${ino} is a directory`);
    const data = file.find(AT.DATA);
    if (!data) return undefined;
    if ((si.attributes & FILE_ATTR.ENCRYPTED) !== 0 || (data.flags & ATTR_FLAG.ENCRYPTED) !== 0) refuseEncrypted(`${this.dev.name}: MFT record ${ino}`);
    return new AttrStream(this.io, data, `MFT record ${ino} $DATA`);
  }

  async readlink(ino: number): Promise<string> {
    const { file, shown } = await this.load(ino);
    if (shown.kind !== 'reparse-link' && shown.kind !== 'intx-link') throw new FsError('EINVAL', `${this.dev.name}: MFT record ${ino} is not a symbolic link`);
    const reparse = shown.kind === 'reparse-link' ? await this.attrBytes(file, AT.REPARSE_POINT, '', MAX_XATTR) : undefined;
    return this.linkTarget(file, shown, reparse);
  }

  /**
   * Interix links hold their target as is. Reparse links are translated as ntfs-3g does:
   * an absolute target found on this volume (matched case-insensitively) becomes an
   * absolute path from the root in its on-disk case; one not found becomes
   * /.NTFS-3G/<drive>:/<path>. Relative targets resolve from the link's directory.
   */
  private async linkTarget(file: NtfsFile, shown: Shown, reparse: Buffer | undefined): Promise<string> {
    if (shown.kind === 'intx-link') {
      const data = file.find(AT.DATA)!;
      const b = await new AttrStream(this.io, data, `MFT record ${file.num} $DATA`).read(8, data.dataSize - 8);
      return b.toString('utf16le', 0, b.length & ~1);
    }
    const t = reparse ? parseLinkTarget(reparse) : undefined;
    if (!t) throw corrupt(this.dev.name, `MFT record ${file.num} $REPARSE_POINT`, 'symlink reparse data cannot be parsed', file.base.at);
    if (t.other !== undefined) return t.other;
    if (t.relative) {
      const fn = file.all(AT.FILE_NAME)[0];
      const parent = fn?.value ? parseFileName(fn.value, this.dev.name, `MFT record ${file.num}`).parent : ROOT;
      const found = await this.resolveCase(parent, t.parts, true);
      return found ?? t.parts.join('/');
    }
    const found = await this.resolveCase(ROOT, t.parts, false);
    return found !== undefined ? `/${found}` : `/.NTFS-3G/${t.drive}:/${t.parts.join('/')}`;
  }

  /**
   * Walk `parts` from directory `start`, returning the path in on-disk case, or undefined.
   * Errors on the way are ignored on purpose: this only spells a link's target (a getattr or
   * readlink of the link itself), which a missing or damaged target must not fail; the target
   * is then shown as stored, as ntfs-3g shows it, and following it meets the error.
   */
  private async resolveCase(start: number, parts: string[], relative: boolean): Promise<string | undefined> {
    let cur = start;
    const out: string[] = [];
    for (const p of parts) {
      if (p === '..') {
        if (!relative) return undefined;
        const f = await this.mft.file(cur).catch(() => undefined);
        const fn = f?.all(AT.FILE_NAME)[0]?.value;
        cur = fn ? parseFileName(fn, this.dev.name, `MFT record ${cur}`).parent : ROOT;
        out.push('..');
        continue;
      }
      const num = await this.lookupIno(cur, p).catch(() => undefined);
      if (num === undefined) return undefined;
      out.push(await this.nameIn(num, cur, p));
      cur = num;
    }
    return out.join('/');
  }

  /** The long name of `num` in directory `dir` (for showing paths in their stored case). */
  private async nameIn(num: number, dir: number, fallback: string): Promise<string> {
    const f = await this.mft.file(num);
    for (const a of f.all(AT.FILE_NAME)) {
      if (!a.value) continue;
      const fn = parseFileName(a.value, this.dev.name, `MFT record ${num}`);
      if (fn.parent === dir && fn.namespace !== NAMESPACE.DOS) return fn.name;
    }
    return fallback;
  }

  async listxattr(ino: number): Promise<string[]> {
    const f = await this.mft.file(ino);
    return f.names(AT.DATA).filter((n) => n !== '').map((n) => `user.${n}`);
  }

  async getxattr(ino: number, name: string): Promise<Buffer> {
    const { file, si } = await this.load(ino);
    if (name.startsWith('user.')) {
      const stream = name.slice(5);
      if (stream === '' || !file.has(AT.DATA, stream)) throw new FsError('ENODATA', `${name}: no such attribute`);
      return this.attrBytes(file, AT.DATA, stream, MAX_XATTR);
    }
    switch (name) {
      case 'system.ntfs_attrib':
      case 'system.ntfs_attrib_be': {
        // As ntfs-3g: the directory bit follows the record's directory flag.
        const v = file.isDir ? si.attributes | FILE_ATTR.DIRECTORY : si.attributes & ~FILE_ATTR.DIRECTORY;
        const b = Buffer.alloc(4);
        if (name.endsWith('_be')) b.writeUInt32BE(v >>> 0);
        else b.writeUInt32LE(v >>> 0);
        return b;
      }
      case 'system.ntfs_acl': {
        if (file.has(AT.SECURITY_DESCRIPTOR)) return this.attrBytes(file, AT.SECURITY_DESCRIPTOR, '', MAX_XATTR);
        this.secure ??= SecureStore.open(this.mft);
        const d = si.securityId ? await (await this.secure)?.descriptor(si.securityId, this.dev.name) : undefined;
        if (!d) throw new FsError('ENODATA', `${name}: MFT record ${ino} has no security descriptor`);
        return Buffer.from(d);
      }
      case 'system.ntfs_crtime':
      case 'system.ntfs_crtime_be':
      case 'system.ntfs_times':
      case 'system.ntfs_times_be': {
        // As ntfs-3g: creation, or creation, modification, access and change times.
        const times = name.startsWith('system.ntfs_crtime') ? [si.created] : [si.created, si.modified, si.accessed, si.changed];
        const b = Buffer.alloc(times.length * 8);
        times.forEach((t, i) => (name.endsWith('_be') ? b.writeBigUInt64BE(t, i * 8) : b.writeBigUInt64LE(t, i * 8)));
        return b;
      }
      case 'system.ntfs_dos_name': {
        const dos = file.all(AT.FILE_NAME).map((a) => parseFileName(a.value!, this.dev.name, `MFT record ${ino}`)).find((fn) => fn.namespace === NAMESPACE.DOS);
        if (!dos) throw new FsError('ENODATA', `${name}: MFT record ${ino} has no DOS name`);
        return Buffer.from(dos.name);
      }
      case 'system.ntfs_reparse_data':
        if (!file.has(AT.REPARSE_POINT)) throw new FsError('ENODATA', `${name}: MFT record ${ino} is no reparse point`);
        return this.attrBytes(file, AT.REPARSE_POINT, '', MAX_XATTR);
      default:
        throw new FsError('ENODATA', `${name}: no such attribute`);
    }
  }

  async statfs(): Promise<StatFs> {
    const bm = await this.mft.file(BITMAP);
    const data = bm.find(AT.DATA);
    if (!data) throw corrupt(this.dev.name, '$Bitmap', 'no $DATA', bm.base.at);
    const total = this.boot.totalClusters;
    const bits = await new AttrStream(this.io, data, '$Bitmap').read(0, Math.ceil(total / 8));
    let used = 0;
    // Bits past the last cluster are set by mkntfs; count the volume's own bits only.
    if (total % 8 !== 0 && bits.length > 0) bits[bits.length - 1]! &= (1 << (total % 8)) - 1;
    for (let i = 0; i < bits.length; i++) used += POPCOUNT[bits[i]!]!;
    const free = Math.max(0, total - used);
    // Inodes as ntfs-3g counts them: every bit $MFT's $BITMAP has room for, plus the
    // records the free clusters could still hold.
    const mft0 = await this.mft.file(0);
    const mftBitmap = mft0.find(AT.BITMAP);
    // One bit per record the volume could hold: a bigger claim is damage, not an allocation to make.
    const most = Math.ceil((total * this.boot.clusterSize) / this.mft.recordSize / 8) + this.boot.clusterSize;
    if (mftBitmap && mftBitmap.dataSize > most) throw corrupt(this.dev.name, '$MFT $BITMAP', `${mftBitmap.dataSize} bytes is more than the ${most} a volume of ${total} clusters can need`, mft0.base.at);
    const mbits = mftBitmap ? await new AttrStream(this.io, mftBitmap, '$MFT $BITMAP').read(0, mftBitmap.dataSize) : Buffer.alloc(0);
    let inUse = 0;
    for (let i = 0; i < mbits.length; i++) inUse += POPCOUNT[mbits[i]!]!;
    const slots = (mftBitmap?.allocSize ?? 0) * 8;
    const more = Math.floor((free * this.boot.clusterSize) / this.mft.recordSize);
    return {
      blockSize: this.boot.clusterSize, blocks: total, freeBlocks: free, availBlocks: free,
      files: slots + more, freeFiles: slots - inUse + more, nameMax: 255,
    };
  }

  async extents(ino: number): Promise<FileExtent[]> {
    const f = await this.mft.file(ino);
    const data = f.find(AT.DATA);
    if (!data || data.dataSize === 0) return [];
    if (data.resident || isCompressed(data)) return [{ offset: 0, length: data.dataSize, hole: false }];
    const cs = this.boot.clusterSize;
    const out: FileExtent[] = [];
    for (const r of data.runs) {
      const offset = r.vcn * cs;
      if (offset >= data.dataSize) break;
      const length = Math.min(r.len * cs, data.dataSize - offset);
      const hole = r.lcn < 0;
      const last = out[out.length - 1];
      if (last && last.hole === hole && last.offset + last.length === offset) last.length += length;
      else out.push({ offset, length, hole });
    }
    return out;
  }

  override async fsync(): Promise<void> {
    if (this.writable) await this.dev.flush();
  }

  async close(): Promise<void> {
    await this.fsync();
  }
}

const POPCOUNT = Array.from({ length: 256 }, (_, i) => {
  let c = 0;
  for (let v = i; v; v &= v - 1) c++;
  return c;
});
