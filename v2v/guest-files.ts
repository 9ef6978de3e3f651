/**
 * Path-based file access on a guest's mounted OS, for the converters: read, write, create,
 * link and remove files by absolute guest path. Paths resolve in the filesystem mounted at
 * the longest prefix (the guest's MountTable), symlinks followed inside that filesystem, so a
 * link never leads outside the image.
 */
import { FsError } from '../fs/errors.js';
import type { Attr, DirEntry, Filesystem } from '../fs/filesystem.js';
import { readFile, resolvePath } from '../fs/path.js';
import type { MountTable } from '../guest/mounts.js';

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const CHUNK = 1 << 20;

export interface Owner {
  /** Permission bits (0o644); the file type is added. */
  mode?: number;
  uid?: number;
  gid?: number;
}

export class GuestFiles {
  constructor(private readonly mounts: MountTable) {}

  private where(path: string): { fs: Filesystem; path: string } {
    return this.mounts.resolve(path);
  }

  /** The attributes of a path, following symlinks; undefined when it does not exist. */
  async stat(path: string): Promise<Attr | undefined> {
    const { fs, path: p } = this.where(path);
    try {
      return await resolvePath(fs, p);
    } catch (e) {
      if (e instanceof FsError && (e.code === 'ENOENT' || e.code === 'ENOTDIR')) return undefined;
      throw e;
    }
  }

  async exists(path: string): Promise<boolean> {
    return (await this.stat(path)) !== undefined;
  }

  async read(path: string): Promise<Buffer> {
    const { fs, path: p } = this.where(path);
    return readFile(fs, p);
  }

  async readText(path: string): Promise<string> {
    return (await this.read(path)).toString('utf8');
  }

  async readdir(path: string): Promise<DirEntry[]> {
    const { fs, path: p } = this.where(path);
    const attr = await resolvePath(fs, p);
    return fs.readdir(attr.ino);
  }

  /**
   * Replace a file's contents (created with `owner` when missing; an existing file keeps its
   * owner and mode). A symlink is followed, as editors do, so /etc/sysconfig/grub → ../default/grub
   * changes the file it names.
   */
  async write(path: string, data: Uint8Array | string, owner: Owner = {}): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const { fs, parent, name } = await this.parentOf(path);
    const existing = await fs.lookup(parent.ino, name).catch(missing);
    let attr: Attr;
    if (existing) {
      // A dangling symlink fails here (ENOENT) rather than creating its target.
      attr = (existing.mode & S_IFMT) === S_IFLNK ? await resolvePath(fs, this.where(path).path) : existing;
      if ((attr.mode & S_IFMT) !== S_IFREG) throw new FsError('EISDIR', `${path}: not a regular file`);
      await fs.truncate(attr.ino, 0);
    } else {
      attr = await fs.create(parent.ino, name, S_IFREG | (owner.mode ?? 0o644), owner.uid ?? 0, owner.gid ?? 0);
    }
    for (let off = 0; off < bytes.length; off += CHUNK) {
      await fs.write(attr.ino, off, bytes.subarray(off, Math.min(bytes.length, off + CHUNK)));
    }
  }

  /** Create a directory and its missing parents; existing ones are left as they are. */
  async mkdirp(path: string, owner: Owner = {}): Promise<void> {
    const parts = path.split('/').filter((s) => s !== '');
    for (let i = 1; i <= parts.length; i++) {
      const dir = `/${parts.slice(0, i).join('/')}`;
      const attr = await this.stat(dir);
      if (attr) {
        if ((attr.mode & S_IFMT) !== S_IFDIR) throw new FsError('ENOTDIR', `${dir}: not a directory`);
        continue;
      }
      const { fs, parent, name } = await this.parentOf(dir);
      await fs.mkdir(parent.ino, name, owner.mode ?? 0o755, owner.uid ?? 0, owner.gid ?? 0);
    }
  }

  /** Create a symlink at `path` pointing to `target` (replacing a symlink already there). */
  async symlink(target: string, path: string): Promise<void> {
    const { fs, parent, name } = await this.parentOf(path);
    const old = await fs.lookup(parent.ino, name).catch(missing);
    if (old) {
      if ((old.mode & S_IFMT) !== S_IFLNK) throw new FsError('EEXIST', `${path}: exists and is not a symlink`);
      await fs.unlink(parent.ino, name);
    }
    await fs.symlink(parent.ino, name, target, 0, 0);
  }

  /** Remove a file or symlink; a missing one is not an error. Returns whether it existed. */
  async unlink(path: string): Promise<boolean> {
    const { fs, parent, name } = await this.parentOf(path);
    try {
      await fs.unlink(parent.ino, name);
      return true;
    } catch (e) {
      if (e instanceof FsError && e.code === 'ENOENT') return false;
      throw e;
    }
  }

  async rename(from: string, to: string): Promise<void> {
    const a = await this.parentOf(from);
    const b = await this.parentOf(to);
    if (a.fs !== b.fs) throw new FsError('EXDEV', `${from} → ${to}: on different filesystems`);
    await a.fs.rename(a.parent.ino, a.name, b.parent.ino, b.name);
  }

  /** The filesystem, directory and last name of a path: the parent must exist. */
  private async parentOf(path: string): Promise<{ fs: Filesystem; parent: Attr; name: string }> {
    const { fs, path: p } = this.where(path);
    const cut = p.lastIndexOf('/');
    const name = p.slice(cut + 1);
    if (name === '' || name === '.' || name === '..') throw new FsError('EINVAL', `${path}: not a file name`);
    const parent = await resolvePath(fs, p.slice(0, cut) || '/');
    if ((parent.mode & S_IFMT) !== S_IFDIR) throw new FsError('ENOTDIR', `${path}: parent is not a directory`);
    return { fs, parent, name };
  }
}

/** ENOENT as undefined; any other error stands. */
function missing(e: unknown): undefined {
  if (e instanceof FsError && e.code === 'ENOENT') return undefined;
  throw e;
}
