/**
 * A Windows registry hive (regf) held in memory: read it, and change it in place. The layout
 * follows libyal's "Windows NT Registry File (REGF) format" document.
 */
import { parseBaseBlock } from './base-block.js';
import { Cells } from './cells.js';
import type { HiveKey } from './key.js';
import { Key } from './key.js';

export type { HiveKey } from './key.js';
export type { HiveValue } from './value.js';
export { REG } from './value.js';
export { HiveError } from './errors.js';

export class Hive {
  readonly root: Key;
  /** The sequence numbers disagree: Windows did not finish writing, changes may wait in .LOG1/.LOG2. */
  readonly dirty: boolean;
  protected readonly cells: Cells;
  protected readonly minor: number;

  protected constructor(
    readonly name: string,
    bytes: Buffer,
  ) {
    const base = parseBaseBlock(bytes, name);
    this.dirty = base.primarySeq !== base.secondarySeq;
    this.minor = base.minor;
    this.cells = new Cells(bytes, name, base.binsSize);
    this.root = new Key(this.cells, base.root);
  }

  /** Parse a whole hive file; `name` (its path) appears in every error. The bytes are not copied until a write. */
  static parse(bytes: Buffer, name: string): Hive {
    return new Hive(name, bytes);
  }

  /** A key by its path below the root ("ControlSet001\\Services", case-insensitive); "" is the root. */
  key(path: string): HiveKey | undefined {
    let k: Key | undefined = this.root;
    for (const part of path.split('\\')) {
      if (part === '') continue;
      k = k.subkey(part);
      if (!k) return undefined;
    }
    return k;
  }

  /** The hive file's bytes. */
  toBuffer(): Buffer {
    return Buffer.from(this.cells.buf.subarray(0, this.cells.end));
  }
}
