/**
 * Base for drivers: every write call answers EROFS on a read-only open and ENOTSUP where the
 * driver has no such call. Drivers override what they support.
 */
import { FsError } from './errors.js';
import type { Attr, DirEntry, DirName, Timespec } from './filesystem.js';

export abstract class UnsupportedWrites {
  abstract readonly type: string;
  abstract readonly writable: boolean;

  abstract readdir(ino: number): Promise<DirEntry[]>;

  /** Where a driver's directories do not record types, readdir's attributes give them. */
  async readdirTypes(ino: number): Promise<DirName[]> {
    return (await this.readdir(ino)).map((e) => ({ name: e.name, ino: e.attr.ino, type: e.attr.mode & 0o170000 }));
  }

  abstract read(ino: number, offset: number, length: number): Promise<Buffer>;

  /** Drivers that can read straight into the caller's buffer override this. */
  async readInto(ino: number, offset: number, buf: Buffer): Promise<number> {
    return (await this.read(ino, offset, buf.length)).copy(buf);
  }

  protected refuse(op: string): never {
    if (!this.writable) throw new FsError('EROFS', `${this.type} is mounted read-only: ${op} refused`);
    throw new FsError('ENOTSUP', `${this.type} driver does not support ${op}`);
  }

  async create(_p: number, _n: string, _m: number, _u: number, _g: number): Promise<Attr> { this.refuse('create'); }
  async mknod(_p: number, _n: string, _m: number, _r: number, _u: number, _g: number): Promise<Attr> { this.refuse('mknod'); }
  async write(_i: number, _o: number, _d: Uint8Array): Promise<number> { this.refuse('write'); }
  async truncate(_i: number, _s: number): Promise<void> { this.refuse('truncate'); }
  async unlink(_p: number, _n: string): Promise<void> { this.refuse('unlink'); }
  async mkdir(_p: number, _n: string, _m: number, _u: number, _g: number): Promise<Attr> { this.refuse('mkdir'); }
  async rmdir(_p: number, _n: string): Promise<void> { this.refuse('rmdir'); }
  async rename(_p: number, _n: string, _np: number, _nn: string): Promise<void> { this.refuse('rename'); }
  async link(_i: number, _np: number, _nn: string): Promise<Attr> { this.refuse('link'); }
  async symlink(_p: number, _n: string, _t: string, _u: number, _g: number): Promise<Attr> { this.refuse('symlink'); }
  async chmod(_i: number, _m: number): Promise<void> { this.refuse('chmod'); }
  async chown(_i: number, _u: number, _g: number): Promise<void> { this.refuse('chown'); }
  async utimens(_i: number, _a: Timespec | null, _m: Timespec | null): Promise<void> { this.refuse('utimens'); }
  async setxattr(_i: number, _n: string, _v: Uint8Array, _f: number): Promise<void> { this.refuse('setxattr'); }
  async removexattr(_i: number, _n: string): Promise<void> { this.refuse('removexattr'); }
  async fsync(_i?: number): Promise<void> {}
}
