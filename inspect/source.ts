/** A guest filesystem as rules see it: paths that exist and small text files, read once each. */
import { FsError } from '../fs/errors.js';
import type { Filesystem } from '../fs/filesystem.js';
import { readFile, resolvePath } from '../fs/path.js';
import type { FactSource } from './rules.js';

/** Configuration files are small; a bigger one is not what a rule means (and is not read). */
const TEXT_CAP = 1 << 20;
/** Package databases are bigger, but still bounded. */
export const DATABASE_CAP = 256 << 20;

export class FsSource implements FactSource {
  private readonly files = new Map<string, Promise<Buffer | undefined>>();

  constructor(
    readonly fs: Filesystem,
    /** The device the filesystem is on, for messages. */
    readonly device: string,
    private readonly warn: (message: string) => void,
  ) {}

  /** The registry, once a Windows root's hives are known; none elsewhere. */
  registry: FactSource['registry'] = async () => undefined;

  async exists(path: string): Promise<boolean> {
    try {
      await resolvePath(this.fs, path);
      return true;
    } catch {
      return false;
    }
  }

  /** A file's bytes, at most `cap` (undefined when missing, a directory, bigger or unreadable). */
  read(path: string, cap = TEXT_CAP): Promise<Buffer | undefined> {
    let p = this.files.get(path);
    if (!p) {
      p = this.load(path, cap);
      this.files.set(path, p);
    }
    return p;
  }

  private async load(path: string, cap: number): Promise<Buffer | undefined> {
    try {
      const attr = await resolvePath(this.fs, path);
      if ((attr.mode & 0o170000) !== 0o100000) return undefined;
      if (attr.size > cap) {
        this.warn(`${this.device}: ${path}: ${attr.size} bytes, more than the ${cap} read for inspection; ignored`);
        return undefined;
      }
      return await readFile(this.fs, path);
    } catch (e) {
      if (!(e instanceof FsError && (e.code === 'ENOENT' || e.code === 'ENOTDIR'))) this.warn(`${this.device}: ${path}: ${(e as Error).message}`);
      return undefined;
    }
  }

  /** The first `length` bytes of a file (an executable's header), or undefined. */
  async head(path: string, length: number): Promise<Buffer | undefined> {
    try {
      const attr = await resolvePath(this.fs, path);
      if ((attr.mode & 0o170000) !== 0o100000) return undefined;
      return await this.fs.read(attr.ino, 0, Math.min(length, attr.size));
    } catch {
      return undefined;
    }
  }

  async text(path: string, cap = TEXT_CAP): Promise<string | undefined> {
    return (await this.read(path, cap))?.toString('utf8');
  }
}
