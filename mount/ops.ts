/**
 * The FUSE operations: fuse-native's path-based callbacks mapped onto the inode-based
 * Filesystem calls through the Namespace (paths) and Handles (open files).
 */
import { constants } from 'node:os';
import type { FuseOps, FuseStat, FuseStatfs } from 'fuse-native';
import type { Attr, DirName, Timespec } from '../fs/filesystem.js';
import type { Handles } from './handles.js';
import type { Namespace } from './namespace.js';

export interface OpsContext {
  ns: Namespace;
  handles: Handles;
  writable: boolean;
  /** Owner of files this mount creates: the user running the daemon. */
  uid: number;
  gid: number;
  /** `-x`: one line per call with its result and time. */
  trace?: (line: string) => void;
  /** Called with unexpected errors (not ENOENT and friends), for -v. */
  onError?: (op: string, path: string, e: unknown) => void;
}

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const O_ACCMODE = 3;
// libfuse 2.9 hands UTIME_NOW and UTIME_OMIT as tv_sec 0 and tv_nsec ≈ 2^30, which
// fuse-native turns into this many milliseconds.
const UTIME_SPECIAL_MS = 1073;
const EXPECTED = new Set(['ENOENT', 'EEXIST', 'ENOTEMPTY', 'ENODATA', 'EROFS', 'ENOTDIR', 'EISDIR', 'EACCES', 'EPERM', 'ENOTSUP', 'EBUSY', 'ERANGE']);

type Cb = (err: number, ...rest: never[]) => void;

/** The errno name of an error from any layer (FsError, DiskError, Node's), as a negative number. */
function errnoOf(e: unknown): { name: string; code: number } {
  let name = (e as { code?: unknown })?.code;
  if (name === 'EFSCORRUPTED') name = 'EUCLEAN';
  const code = typeof name === 'string' ? (constants.errno as Record<string, number>)[name] : undefined;
  return code === undefined ? { name: 'EIO', code: -constants.errno.EIO } : { name: name as string, code: -code };
}

export function toFuseStat(a: Attr): FuseStat {
  return {
    mode: a.mode, uid: a.uid, gid: a.gid, size: a.size, nlink: a.nlink, ino: a.ino, rdev: a.rdev,
    blksize: 4096, blocks: a.blocks, atime: ms(a.atime), mtime: ms(a.mtime), ctime: ms(a.ctime),
  };
}

const ms = (t: Timespec) => t.sec * 1000 + Math.floor(t.nsec / 1e6);

function timespec(msValue: number): Timespec {
  if (msValue === UTIME_SPECIAL_MS) msValue = Date.now();
  return { sec: Math.floor(msValue / 1000), nsec: (msValue % 1000) * 1e6 };
}

export function buildOps(ctx: OpsContext): FuseOps & { idle(): Promise<void> } {
  const { ns, handles } = ctx;
  // Times only for -x: the clock's module is not loaded otherwise.
  const t0 = ctx.trace ? performance.now() : 0;
  // Calls run concurrently: every filesystem serialises its own changes (fs/locked.ts).
  const inflight = new Set<Promise<unknown>>();

  /**
   * Run `fn`, answer `cb` with its result (or the errno), and trace it. A result that is not a
   * promise is answered at once, with no trip through the microtask queue.
   */
  function call<T>(op: string, path: string, cb: Cb, fn: () => T | Promise<T>, answer: (v: T) => unknown[]): void {
    const start = ctx.trace ? performance.now() : 0;
    const done = (v: T) => {
      const args = answer(v);
      if (ctx.trace) ctx.trace(`[${((start - t0) / 1000).toFixed(6)}] ${op} ${path} = ${typeof args[0] === 'number' ? args[0] : 0} (${(performance.now() - start).toFixed(3)} ms)`);
      (cb as (...a: unknown[]) => void)(...args);
    };
    const failed = (e: unknown) => {
      const { name, code } = errnoOf(e);
      if (ctx.trace) ctx.trace(`[${((start - t0) / 1000).toFixed(6)}] ${op} ${path} = ${name} (${(performance.now() - start).toFixed(3)} ms)`);
      if (!EXPECTED.has(name)) ctx.onError?.(op, path, e);
      cb(code);
    };
    let result: T | Promise<T>;
    try {
      result = fn();
    } catch (e) {
      failed(e);
      return;
    }
    if (!(result instanceof Promise)) {
      done(result);
      return;
    }
    const p = result;
    inflight.add(p);
    void p.finally(() => inflight.delete(p)).catch(() => undefined);
    p.then(done, failed);
  }
  const ok = (): unknown[] => [0];

  const ops: FuseOps & { idle(): Promise<void> } = {
    async idle() {
      await Promise.allSettled([...inflight]);
    },
    statfs(path, cb) {
      call('statfs', path, cb, async () => {
        const n = await ns.resolve(path);
        if (n.kind !== 'fs') return { bsize: 4096, frsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0, favail: 0, fsid: 0, flag: 0, namemax: 255 };
        return fuseStatfs(await n.fs.statfs());
      }, (s) => [0, s]);
    },
    getattr(path, cb) {
      call('getattr', path, cb, async () => toFuseStat(await ns.getattr(await ns.resolve(path))), (s) => [0, s]);
    },
    fgetattr(path, fd, cb) {
      call('fgetattr', path, cb, async () => {
        const h = handles.get(fd);
        return toFuseStat(ns.shown(h.fs, await h.fs.getattr(h.ino)));
      }, (s) => [0, s]);
    },
    access(path, _mode, cb) {
      call('access', path, cb, () => ns.resolve(path), ok);
    },
    readdir(path, cb) {
      call('readdir', path, cb, () => ns.readdir(path), (entries) => [0, ['.', '..', ...entries.map((e) => e.name)], [dirStat(), dirStat(), ...entries.map(nameStat)]]);
    },
    opendir(path, _flags, cb) {
      call('opendir', path, cb, async () => {
        const n = await ns.resolve(path);
        return n.kind === 'fs' ? handles.add({ fs: n.fs, ino: n.ino, flags: 0 }) : 0;
      }, (fd) => [0, fd]);
    },
    releasedir(path, fd, cb) {
      call('releasedir', path, cb, async () => handles.release(fd), ok);
    },
    open(path, flags, cb) {
      call('open', path, cb, async () => {
        const n = await ns.resolveFs(path);
        if ((flags & O_ACCMODE) !== 0 && !n.fs.writable) throw Object.assign(new Error('read-only'), { code: 'EROFS' });
        return handles.add({ fs: n.fs, ino: n.ino, flags });
      }, (fd) => [0, fd]);
    },
    create(path, mode, cb) {
      call('create', path, cb, async () => {
        const p = await ns.parentOf(path);
        const a = await p.fs.create(p.ino, p.name, mode, ctx.uid, ctx.gid);
        return handles.add({ fs: p.fs, ino: a.ino, flags: 2 });
      }, (fd) => [0, fd]);
    },
    release(path, fd, cb) {
      call('release', path, cb, async () => handles.release(fd), ok);
    },
    read(path, fd, buf, len, pos, cb) {
      // Straight into libfuse's buffer: the driver reads the image into it, with no buffer or copy of ours.
      call('read', path, cb, () => {
        const h = handles.get(fd);
        return h.fs.readInto(h.ino, pos, len === buf.length ? buf : buf.subarray(0, len));
      }, (n) => [n]);
    },
    write(path, fd, buf, len, pos, cb) {
      call('write', path, cb, async () => {
        const h = handles.get(fd);
        // The buffer is libfuse's and is reused after we answer: the driver gets a copy.
        return h.fs.write(h.ino, pos, Buffer.from(buf.subarray(0, len)));
      }, (n) => [n]);
    },
    flush(path, fd, cb) {
      call('flush', path, cb, async () => handles.get(fd), ok);
    },
    fsync(path, _datasync, fd, cb) {
      call('fsync', path, cb, async () => {
        const h = handles.get(fd);
        await h.fs.fsync(h.ino);
      }, ok);
    },
    fsyncdir(path, _datasync, fd, cb) {
      call('fsyncdir', path, cb, async () => {
        if (fd === 0) return;
        const h = handles.get(fd);
        await h.fs.fsync(h.ino);
      }, ok);
    },
    truncate(path, size, cb) {
      call('truncate', path, cb, async () => {
        const n = await ns.resolveFs(path);
        await n.fs.truncate(n.ino, size);
      }, ok);
    },
    ftruncate(path, fd, size, cb) {
      call('ftruncate', path, cb, async () => {
        const h = handles.get(fd);
        await h.fs.truncate(h.ino, size);
      }, ok);
    },
    readlink(path, cb) {
      call('readlink', path, cb, async () => {
        const n = await ns.resolveFs(path);
        return n.fs.readlink(n.ino);
      }, (target) => [0, target]);
    },
    chown(path, uid, gid, cb) {
      call('chown', path, cb, async () => {
        const n = await ns.resolveFs(path);
        const a = await n.fs.getattr(n.ino);
        // -1 (as unsigned) leaves that id as it is.
        await n.fs.chown(n.ino, uid === 0xffffffff ? a.uid : uid, gid === 0xffffffff ? a.gid : gid);
      }, ok);
    },
    chmod(path, mode, cb) {
      call('chmod', path, cb, async () => {
        const n = await ns.resolveFs(path);
        await n.fs.chmod(n.ino, mode & ~S_IFMT);
      }, ok);
    },
    utimens(path, atime, mtime, cb) {
      call('utimens', path, cb, async () => {
        const n = await ns.resolveFs(path);
        await n.fs.utimens(n.ino, timespec(atime), timespec(mtime));
      }, ok);
    },
    mknod(path, mode, dev, cb) {
      call('mknod', path, cb, async () => {
        const p = await ns.parentOf(path);
        await p.fs.mknod(p.ino, p.name, mode, dev, ctx.uid, ctx.gid);
      }, ok);
    },
    mkdir(path, mode, cb) {
      call('mkdir', path, cb, async () => {
        const p = await ns.parentOf(path);
        await p.fs.mkdir(p.ino, p.name, mode, ctx.uid, ctx.gid);
      }, ok);
    },
    unlink(path, cb) {
      call('unlink', path, cb, async () => {
        const p = await ns.parentOf(path);
        ns.forget(path, false);
        await p.fs.unlink(p.ino, p.name);
      }, ok);
    },
    rmdir(path, cb) {
      call('rmdir', path, cb, async () => {
        const p = await ns.parentOf(path);
        ns.forget(path, true);
        await p.fs.rmdir(p.ino, p.name);
      }, ok);
    },
    rename(src, dest, cb) {
      call('rename', `${src} -> ${dest}`, cb, async () => {
        const from = await ns.parentOf(src);
        const to = await ns.parentOf(dest);
        if (from.fs !== to.fs) throw Object.assign(new Error('cross-filesystem rename'), { code: 'EXDEV' });
        ns.forget(src, true);
        ns.forget(dest, true);
        await from.fs.rename(from.ino, from.name, to.ino, to.name);
      }, ok);
    },
    link(src, dest, cb) {
      call('link', `${src} -> ${dest}`, cb, async () => {
        const n = await ns.resolveFs(src);
        const to = await ns.parentOf(dest);
        if (n.fs !== to.fs) throw Object.assign(new Error('cross-filesystem link'), { code: 'EXDEV' });
        await n.fs.link(n.ino, to.ino, to.name);
      }, ok);
    },
    symlink(target, path, cb) {
      call('symlink', `${path} -> ${target}`, cb, async () => {
        const p = await ns.parentOf(path);
        await p.fs.symlink(p.ino, p.name, target, ctx.uid, ctx.gid);
      }, ok);
    },
    listxattr(path, cb) {
      call('listxattr', path, cb, async () => {
        const n = await ns.resolve(path);
        return n.kind === 'fs' ? n.fs.listxattr(n.ino) : [];
      }, (names) => [0, names]);
    },
    getxattr(path, name, _position, cb) {
      call('getxattr', `${path} ${name}`, cb, async () => {
        const n = await ns.resolve(path);
        if (n.kind !== 'fs') throw Object.assign(new Error('no attributes'), { code: 'ENODATA' });
        return n.fs.getxattr(n.ino, name);
      }, (v) => [0, v]);
    },
    setxattr(path, name, value, _position, flags, cb) {
      call('setxattr', `${path} ${name}`, cb, async () => {
        const n = await ns.resolveFs(path);
        await n.fs.setxattr(n.ino, name, Buffer.from(value), flags);
      }, ok);
    },
    removexattr(path, name, cb) {
      call('removexattr', `${path} ${name}`, cb, async () => {
        const n = await ns.resolveFs(path);
        await n.fs.removexattr(n.ino, name);
      }, ok);
    },
  };
  return ops;
}

/** What libfuse 2 passes on from a readdir entry's stat: the inode number and the type bits. */
function nameStat(e: DirName): FuseStat {
  return { mode: e.type, ino: e.ino, uid: 0, gid: 0, size: 0, nlink: 1, atime: 0, mtime: 0, ctime: 0 };
}

function dirStat(): FuseStat {
  return { mode: S_IFDIR | 0o755, uid: 0, gid: 0, size: 0, nlink: 2, atime: 0, mtime: 0, ctime: 0 };
}

/** fuse-native carries statfs counts as 32-bit: grow the fragment size until they fit. */
function fuseStatfs(s: { blockSize: number; blocks: number; freeBlocks: number; availBlocks: number; files: number; freeFiles: number; nameMax: number }): FuseStatfs {
  let { blockSize, blocks, freeBlocks, availBlocks } = s;
  while (blocks > 0xffffffff) {
    blockSize *= 2;
    blocks = Math.floor(blocks / 2);
    freeBlocks = Math.floor(freeBlocks / 2);
    availBlocks = Math.floor(availBlocks / 2);
  }
  const files = Math.min(s.files, 0xffffffff);
  const ffree = Math.min(s.freeFiles, 0xffffffff);
  return { bsize: blockSize, frsize: blockSize, blocks, bfree: freeBlocks, bavail: availBlocks, files, ffree, favail: ffree, fsid: 0, flag: 0, namemax: s.nameMax };
}
