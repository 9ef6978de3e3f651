/**
 * FUSE paths to (filesystem, inode). fuse-native speaks libfuse's path-based API, so every
 * call names a path; walking it from the root on each call would cost a lookup per component.
 * Resolved paths are cached (keyed case-insensitively on NTFS and FAT, whose lookups are) and
 * dropped when unlink, rmdir or rename change the namespace. Directories above mountpoints
 * that no filesystem holds (the root of a Windows guest's `/C`, `/D`) are synthetic.
 */
import { FsError } from '../fs/errors.js';
import type { Attr, DirName, Filesystem } from '../fs/filesystem.js';
import { normalize, type MountTable } from '../guest/mounts.js';
import { InodeNumbers } from './inode-numbers.js';

export type Node =
  | { kind: 'fs'; fs: Filesystem; ino: number }
  | { kind: 'synthetic'; path: string };

/** Bound on cached paths: a walk over a huge tree must not grow the daemon without limit. */
const MAX_CACHED = 200_000;
const S_IFDIR = 0o040000;
const S_IFMT = 0o170000;

export class Namespace {
  private readonly paths = new Map<string, { fs: Filesystem; ino: number }>();
  private readonly born = { sec: Math.floor(Date.now() / 1000), nsec: 0 };
  private readonly inos: InodeNumbers;

  constructor(
    private readonly table: MountTable,
    private readonly owner: { uid: number; gid: number },
  ) {
    this.inos = new InodeNumbers(table);
  }

  /** The filesystem owning a path, its mountpoint, and the cache key of the path. */
  private owning(path: string): { fs: Filesystem; mountpoint: string; inner: string; key: string } | undefined {
    let r;
    try {
      r = this.table.resolve(path);
    } catch {
      return undefined;
    }
    const folded = caseInsensitive(r.fs) ? r.path.toLowerCase() : r.path;
    return { fs: r.fs, mountpoint: r.mountpoint, inner: r.path, key: `${r.mountpoint}\0${folded}` };
  }

  async resolve(path: string): Promise<Node> {
    const p = normalize(path);
    const own = this.owning(p);
    if (!own) {
      if (this.mountpointsBelow(p).length > 0) return { kind: 'synthetic', path: p };
      throw new FsError('ENOENT', `${p}: not in any mounted filesystem`);
    }
    const hit = this.paths.get(own.key);
    if (hit) return { kind: 'fs', ...hit };
    if (own.inner === '/') return { kind: 'fs', fs: own.fs, ino: own.fs.rootIno };
    const slash = p.lastIndexOf('/');
    const parent = await this.resolve(p.slice(0, slash) || '/');
    if (parent.kind !== 'fs' || parent.fs !== own.fs) throw new FsError('ENOENT', `${p}: not found`);
    const attr = await own.fs.lookup(parent.ino, p.slice(slash + 1));
    this.remember(own.key, own.fs, attr.ino);
    return { kind: 'fs', fs: own.fs, ino: attr.ino };
  }

  /** Resolve a path that must be inside a filesystem (not a synthetic directory). */
  async resolveFs(path: string): Promise<{ fs: Filesystem; ino: number }> {
    const n = await this.resolve(path);
    if (n.kind !== 'fs') throw new FsError('EPERM', `${n.path}: only holds mountpoints; nothing can change here`);
    return n;
  }

  /** The parent directory of a path about to be created or removed, and the last name. */
  async parentOf(path: string): Promise<{ fs: Filesystem; ino: number; name: string }> {
    const p = normalize(path);
    if (this.table.at(p)) throw new FsError('EBUSY', `${p}: is a mountpoint`);
    const slash = p.lastIndexOf('/');
    const parent = await this.resolveFs(p.slice(0, slash) || '/');
    return { ...parent, name: p.slice(slash + 1) };
  }

  /** Attributes as the kernel is given them: the inode number unique in the mount (inode-numbers.ts). */
  async getattr(node: Node): Promise<Attr> {
    if (node.kind === 'fs') return this.shown(node.fs, await node.fs.getattr(node.ino));
    const t = this.born;
    return { ino: this.inos.ofSynthetic(node.path), mode: S_IFDIR | 0o755, nlink: 2, uid: this.owner.uid, gid: this.owner.gid, size: 0, blocks: 0, atime: t, mtime: t, ctime: t, rdev: 0 };
  }

  /**
   * A directory's names with the inode numbers and types the kernel is given (all a libfuse 2
   * readdir passes on), with mountpoints directly below it added; caches the children.
   */
  async readdir(path: string): Promise<DirName[]> {
    const p = normalize(path);
    const node = await this.resolve(p);
    const out: DirName[] = [];
    const mounts = this.mountpointsBelow(p);
    if (node.kind === 'fs') {
      const own = this.owning(p)!;
      // Children's cache keys extend the directory's (one normalisation, not one per entry);
      // a name that is another filesystem's mountpoint belongs to that filesystem.
      const prefix = own.inner === '/' ? own.key : `${own.key}/`;
      const fold = caseInsensitive(node.fs);
      for (const e of await node.fs.readdirTypes(node.ino)) {
        if (!mounts.includes(e.name)) this.remember(`${prefix}${fold ? e.name.toLowerCase() : e.name}`, node.fs, e.ino);
        out.push({ name: e.name, ino: this.inos.of(node.fs, e.ino), type: e.type });
      }
    }
    const have = new Set(out.map((e) => e.name));
    for (const name of mounts) {
      if (have.has(name)) continue;
      const child = `${p === '/' ? '' : p}/${name}`;
      const attr = await this.getattr(await this.resolve(child));
      out.push({ name, ino: attr.ino, type: attr.mode & S_IFMT });
    }
    return out;
  }

  /** `attr` of an inode of `fs` with the number the kernel is given. */
  shown(fs: Filesystem, attr: Attr): Attr {
    return { ...attr, ino: this.inos.of(fs, attr.ino) };
  }

  /** Forget a path (after unlink), and with `tree` everything below it (rmdir, rename). */
  forget(path: string, tree: boolean): void {
    const own = this.owning(normalize(path));
    if (!own) return;
    this.paths.delete(own.key);
    if (!tree) return;
    const below = `${own.key}/`;
    for (const k of this.paths.keys()) if (k === own.key || k.startsWith(below)) this.paths.delete(k);
  }

  /** Names of the first path components of mountpoints strictly below `path`. */
  private mountpointsBelow(path: string): string[] {
    const prefix = path === '/' ? '/' : `${path}/`;
    const names = new Set<string>();
    for (const m of this.table.list()) {
      if (m.mountpoint !== path && m.mountpoint.startsWith(prefix)) names.add(m.mountpoint.slice(prefix.length).split('/')[0]!);
    }
    return [...names];
  }

  private remember(key: string, fs: Filesystem, ino: number): void {
    if (this.paths.size >= MAX_CACHED) this.paths.clear();
    this.paths.set(key, { fs, ino });
  }
}

function caseInsensitive(fs: Filesystem): boolean {
  return fs.type === 'ntfs' || fs.type === 'vfat';
}
