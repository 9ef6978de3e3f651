/** Path-based access over the inode interface, for the tools (virt-ls, virt-cat). */
import { FsError } from './errors.js';
import type { Attr, Filesystem } from './filesystem.js';

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const MAX_SYMLINKS = 40;

/** Resolve an absolute path to its attributes, following symlinks in every component but the last unless `follow`. */
export async function resolvePath(fs: Filesystem, path: string, follow = true): Promise<Attr> {
  let hops = 0;
  const walk = async (start: Attr, parts: string[], stack: Attr[]): Promise<Attr> => {
    let cur = start;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (part === '' || part === '.') continue;
      if (part === '..') {
        cur = stack.pop() ?? cur;
        continue;
      }
      if ((cur.mode & S_IFMT) !== 0o040000) throw new FsError('ENOTDIR', `${parts.slice(0, i).join('/')}: not a directory`);
      const next = await fs.lookup(cur.ino, part);
      const last = i === parts.length - 1;
      if ((next.mode & S_IFMT) === S_IFLNK && (!last || follow)) {
        if (++hops > MAX_SYMLINKS) throw new FsError('ELOOP', `${path}: too many levels of symbolic links`);
        const target = await fs.readlink(next.ino);
        const absolute = target.startsWith('/');
        const baseStack = absolute ? [] : [...stack];
        cur = await walk(absolute ? await fs.getattr(fs.rootIno) : cur, target.split('/'), baseStack);
        // The target's ancestors are now ours, so a later ".." climbs from where the link led.
        stack.splice(0, stack.length, ...baseStack);
        continue;
      }
      stack.push(cur);
      cur = next;
    }
    return cur;
  };
  return walk(await fs.getattr(fs.rootIno), path.split('/'), []);
}

/** Read a whole file by path, in chunks. */
export async function readFile(fs: Filesystem, path: string): Promise<Buffer> {
  const attr = await resolvePath(fs, path);
  if ((attr.mode & S_IFMT) === 0o040000) throw new FsError('EISDIR', `${path}: is a directory`);
  const chunks: Buffer[] = [];
  const CHUNK = 1 << 20;
  for (let off = 0; off < attr.size; off += CHUNK) {
    chunks.push(await fs.read(attr.ino, off, Math.min(CHUNK, attr.size - off)));
  }
  return Buffer.concat(chunks);
}
