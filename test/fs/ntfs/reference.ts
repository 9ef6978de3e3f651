/**
 * Walk a tree twice: through an ntfs-3g mount with node:fs and getfattr (the reference), and
 * through our driver; both give the same record per path, compared field by field.
 */
import { createHash } from 'node:crypto';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Attr, Filesystem, Timespec } from '../../../fs/filesystem.js';
import { run } from '../../fixtures/run.js';

export interface Seen {
  ino: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  size?: number;
  blocks?: number;
  atime: string;
  mtime: string;
  ctime: string;
  target?: string;
  hash?: string;
  xattrs: Record<string, string>;
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
/** Files larger than this are compared by samples (a 5 GiB sparse file would take too long). */
const WHOLE = 64 << 20;
const SAMPLE = 1 << 20;

function ts(t: Timespec): string {
  return `${t.sec}.${String(t.nsec).padStart(9, '0')}`;
}

/** Offsets whose 1 MiB samples stand for a large file: start, end, and one in between. */
function samples(size: number): number[] {
  return [0, Math.floor(size / 2 / SAMPLE) * SAMPLE, 2_999_000_000, Math.max(0, size - SAMPLE)].filter((o) => o < size);
}

async function hashWith(size: number, readAt: (off: number, len: number) => Promise<Buffer>): Promise<string> {
  const h = createHash('sha256');
  const ranges = size <= WHOLE ? [[0, size]] : samples(size).map((o) => [o, Math.min(SAMPLE, size - o)]);
  for (const [o, l] of ranges) {
    for (let p = o!; p < o! + l!; p += 1 << 20) h.update(await readAt(p, Math.min(1 << 20, o! + l! - p)));
  }
  return h.digest('hex');
}

/** Parse `getfattr -R -h -d -e hex` output into path → name → hex. */
function parseGetfattr(out: string, root: string): Map<string, Record<string, string>> {
  const map = new Map<string, Record<string, string>>();
  let cur: Record<string, string> | undefined;
  for (const line of out.split('\n')) {
    if (line.startsWith('# file: ')) {
      // getfattr escapes some bytes as \ooo; everything else is already UTF-8 text.
      const parts = line.slice(8).split(/(\\[0-7]{3})/);
      const p = Buffer.concat(parts.map((x) => (/^\\[0-7]{3}$/.test(x) ? Buffer.from([parseInt(x.slice(1), 8)]) : Buffer.from(x)))).toString('utf8');
      cur = {};
      map.set(p === root ? '/' : p.slice(root.length), cur);
    } else if (cur && line.includes('=')) {
      const i = line.indexOf('=');
      cur[line.slice(0, i)] = line.slice(i + 1).replace(/^0x/, '');
    }
  }
  return map;
}

/** The reference: what ntfs-3g mounted at `mnt` shows. `skip` lists paths left out. */
export async function walkNtfs3g(mnt: string, skip: Set<string>): Promise<Map<string, Seen>> {
  const out = new Map<string, Seen>();
  const xa = parseGetfattr(await run('getfattr', ['-R', '-h', '-d', '-m', '^user\\.', '-e', 'hex', '--absolute-names', mnt]), mnt);
  const attrib = parseGetfattr(await run('getfattr', ['-R', '-h', '-n', 'system.ntfs_attrib', '-e', 'hex', '--absolute-names', mnt]), mnt);
  const acl = parseGetfattr(await run('getfattr', ['-R', '-h', '-n', 'system.ntfs_acl', '-e', 'hex', '--absolute-names', mnt]), mnt);
  const walk = async (rel: string): Promise<void> => {
    for (const name of await readdir(join(mnt, rel))) {
      const path = `${rel}/${name}`;
      if (skip.has(path)) continue;
      const full = join(mnt, path);
      const st = await lstat(full, { bigint: true });
      const type = Number(st.mode) & S_IFMT;
      const nsOf = (ns: bigint): string => `${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`;
      const s: Seen = {
        ino: Number(st.ino), mode: Number(st.mode), nlink: Number(st.nlink), uid: Number(st.uid), gid: Number(st.gid), rdev: Number(st.rdev),
        atime: nsOf(st.atimeNs), mtime: nsOf(st.mtimeNs), ctime: nsOf(st.ctimeNs),
        xattrs: { ...xa.get(path), ...attrib.get(path), ...acl.get(path) },
      };
      if (type === S_IFLNK) {
        const t = await readlink(full);
        s.target = t.startsWith(`${mnt}/`) ? t.slice(mnt.length) : t;
        if (!s.target.startsWith('/')) s.size = Number(st.size);
      } else {
        s.size = Number(st.size);
        s.blocks = Number(st.blocks);
      }
      if (type === S_IFREG) {
        const fh = await open(full);
        try {
          s.hash = await hashWith(s.size!, async (o, l) => {
            const b = Buffer.alloc(l);
            await fh.read(b, 0, l, o);
            return b;
          });
        } finally {
          await fh.close();
        }
      }
      out.set(path, s);
      if (type === S_IFDIR) await walk(path);
    }
  };
  await walk('');
  return out;
}

/** The same walk through our driver. */
export async function walkOurs(fs: Filesystem, skip: Set<string>): Promise<Map<string, Seen>> {
  const out = new Map<string, Seen>();
  const walk = async (ino: number, rel: string): Promise<void> => {
    for (const { name, attr } of await fs.readdir(ino)) {
      const path = `${rel}/${name}`;
      if (skip.has(path)) continue;
      out.set(path, await seenOurs(fs, attr));
      if ((attr.mode & S_IFMT) === S_IFDIR) await walk(attr.ino, path);
    }
  };
  await walk(fs.rootIno, '');
  return out;
}

export async function seenOurs(fs: Filesystem, a: Attr): Promise<Seen> {
  const type = a.mode & S_IFMT;
  const xattrs: Record<string, string> = {};
  for (const n of await fs.listxattr(a.ino)) xattrs[n] = (await fs.getxattr(a.ino, n)).toString('hex');
  for (const n of ['system.ntfs_attrib', 'system.ntfs_acl']) xattrs[n] = (await fs.getxattr(a.ino, n)).toString('hex');
  const s: Seen = {
    ino: a.ino, mode: a.mode, nlink: a.nlink, uid: a.uid, gid: a.gid, rdev: a.rdev,
    atime: ts(a.atime), mtime: ts(a.mtime), ctime: ts(a.ctime), xattrs,
  };
  if (type === S_IFLNK) {
    s.target = await fs.readlink(a.ino);
    if (!s.target.startsWith('/')) s.size = a.size;
  } else {
    s.size = a.size;
    s.blocks = a.blocks;
  }
  if (type === S_IFREG) s.hash = await hashWith(a.size, (o, l) => fs.read(a.ino, o, l));
  return s;
}
