/**
 * Open file and directory handles. FUSE passes the handle back on read, write, fsync and
 * release, so I/O goes to the inode that was opened even after its path was renamed or
 * unlinked; the path cache is only for calls that carry a path alone.
 */
import { FsError } from '../fs/errors.js';
import type { Filesystem } from '../fs/filesystem.js';

export interface Handle {
  fs: Filesystem;
  ino: number;
  /** open(2) flags as FUSE gave them. */
  flags: number;
}

export class Handles {
  private readonly open = new Map<number, Handle>();
  // fuse-native treats handle 0 as "no handle", so numbering starts at 1.
  private next = 1;

  add(h: Handle): number {
    while (this.open.has(this.next) || this.next === 0) this.next = (this.next + 1) >>> 0;
    const fd = this.next;
    this.open.set(fd, h);
    this.next = (this.next + 1) >>> 0;
    return fd;
  }

  get(fd: number): Handle {
    const h = this.open.get(fd);
    if (!h) throw new FsError('EBADF', `no open handle ${fd}`);
    return h;
  }

  release(fd: number): void {
    this.open.delete(fd);
  }

  get size(): number {
    return this.open.size;
  }
}
