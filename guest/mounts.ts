/** Filesystems mounted at paths of one namespace: the longest mountpoint prefix owns a path. */
import type { Filesystem } from '../fs/filesystem.js';
import { GuestError } from './errors.js';

export interface Mounted {
  mountpoint: string;
  fs: Filesystem;
  device: string;
}

export class MountTable {
  private readonly entries: Mounted[] = [];

  add(mountpoint: string, fs: Filesystem, device: string): void {
    const mp = normalize(mountpoint);
    if (this.entries.some((e) => e.mountpoint === mp)) throw new GuestError('already-mounted', 'EBUSY', `${mp}: already mounted`);
    this.entries.push({ mountpoint: mp, fs, device });
    this.entries.sort((a, b) => b.mountpoint.length - a.mountpoint.length);
  }

  list(): readonly Mounted[] {
    return this.entries;
  }

  /** The filesystem mounted exactly at `path`, if any. */
  at(path: string): Mounted | undefined {
    const p = normalize(path);
    return this.entries.find((e) => e.mountpoint === p);
  }

  /** The filesystem owning an absolute path, and the path inside it. */
  resolve(path: string): { fs: Filesystem; path: string; mountpoint: string } {
    const p = normalize(path);
    for (const e of this.entries) {
      if (e.mountpoint === '/' || p === e.mountpoint || p.startsWith(`${e.mountpoint}/`)) {
        const rest = e.mountpoint === '/' ? p : p.slice(e.mountpoint.length) || '/';
        return { fs: e.fs, path: rest, mountpoint: e.mountpoint };
      }
    }
    throw new GuestError('not-mounted', 'ENOENT', `${path}: no filesystem is mounted there`);
  }
}

/** Collapse duplicate and trailing slashes; "." and ".." are left for the filesystem walk. */
export function normalize(path: string): string {
  const parts = path.split('/').filter((s) => s !== '');
  return `/${parts.join('/')}`;
}
