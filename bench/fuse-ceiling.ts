/**
 * The FUSE ceiling for bench/mount.ts: a trivial fuse-native filesystem answering a 1 GiB
 * file from memory, mounted with the same libfuse options as guestmount. Runs as its own
 * process: `node dist/bench/fuse-ceiling.js MOUNTPOINT`; prints "ready", unmounts on SIGTERM.
 */
import { execFile } from 'node:child_process';
import { fuseMount } from '../mount/fuse.js';

const SIZE = 1 << 30;
const mnt = process.argv[2]!;
const block = Buffer.alloc(1 << 20, 0x5a);
const t = Date.now();
const file = { mode: 0o100444, uid: 0, gid: 0, size: SIZE, nlink: 1, atime: t, mtime: t, ctime: t };
const dir = { ...file, mode: 0o040555, size: 0, nlink: 2 };

await fuseMount(mnt, {
  getattr: (path, cb) => (path === '/' ? cb(0, dir) : path === '/big' ? cb(0, file) : cb(-2)),
  readdir: (_path, cb) => cb(0, ['big'], [file]),
  open: (_path, _flags, cb) => cb(0, 1),
  release: (_path, _fd, cb) => cb(0),
  read: (_path, _fd, buf, len, pos, cb) => {
    const n = Math.max(0, Math.min(len, SIZE - pos));
    for (let done = 0; done < n; done += block.length) block.copy(buf, done, 0, Math.min(block.length, n - done));
    cb(n);
  },
}, { readonly: true, cacheTimeout: 60, fsname: 'fuse-ceiling', extra: [] });
process.stdout.write('ready\n');
process.once('SIGTERM', () => execFile('fusermount', ['-u', '-z', mnt], () => process.exit(0)));
