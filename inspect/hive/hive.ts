/**
 * A Windows registry hive (regf) held in memory: read it, and change it in place. The layout
 * follows libyal's "Windows NT Registry File (REGF) format" document.
 */
import { Allocator } from './allocator.js';
import { BASE_BLOCK_SIZE, filetime, parseBaseBlock, sealBaseBlock } from './base-block.js';
import { Cells } from './cells.js';
import { HiveError } from './errors.js';
import type { HiveKey } from './key.js';
import { Key } from './key.js';
import { isDirty, replayLogs, type HiveLog } from './log.js';
import type { WriteContext } from './write-context.js';
import { addKey, deleteKey } from './write-keys.js';
import { deleteValue, setValue } from './write-values.js';

export type { HiveKey } from './key.js';
export type { HiveValue } from './value.js';
export { REG } from './value.js';
export { HiveError } from './errors.js';
export type { HiveLog } from './log.js';

export class Hive {
  readonly root: Key;
  /**
   * The file was dirty (sequence numbers that disagree, or a bad checksum): Windows did not
   * finish writing, and changes may wait in .LOG1/.LOG2. It stays true after a replay.
   */
  readonly dirty: boolean;
  /** The logs replayed in memory, one line each ("SYSTEM.LOG1: 2 entries (sequence 5 to 6)"); empty if none. */
  readonly replayed: string[];
  private readonly cells: Cells;
  private readonly minor: number;
  private readonly sequence: [number, number];
  /** Set up by the first write: the bytes are copied then. */
  private context?: WriteContext;
  /** Written to since the base block was last sealed. */
  private changed = false;

  private constructor(
    readonly name: string,
    bytes: Buffer,
    logs: HiveLog[],
  ) {
    const dirty = isDirty(bytes);
    const recovered = dirty && logs.length > 0 ? replayLogs(bytes, name, logs) : undefined;
    if (recovered) bytes = recovered.bytes;
    this.replayed = recovered?.applied ?? [];
    const base = parseBaseBlock(bytes, name);
    this.dirty = dirty;
    this.minor = base.minor;
    this.sequence = [base.primarySeq, base.secondarySeq];
    this.cells = new Cells(bytes, name, base.binsSize);
    this.root = new Key(this.cells, base.root);
  }

  /**
   * Parse a whole hive file; `name` (its path) appears in every error. The bytes are not
   * copied until a write. When the hive is dirty, the `logs` found beside it (.LOG1, .LOG2,
   * .LOG) are replayed in memory first (`replayed` says what was applied).
   */
  static parse(bytes: Buffer, name: string, logs: HiveLog[] = []): Hive {
    return new Hive(name, bytes, logs);
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

  /** Add a subkey (it must not exist); it shares its parent's security descriptor. */
  addKey(parent: HiveKey, name: string): HiveKey {
    return new Key(this.cells, addKey(this.write(), parent.offset, name));
  }

  /** Delete a key with all its subkeys and values (not the root). */
  deleteKey(key: HiveKey): void {
    deleteKey(this.write(), key.offset);
  }

  /** Create or replace a value ("" is the key's default value); a replaced value keeps its name's case. */
  setValue(key: HiveKey, name: string, type: number, data: Buffer): void {
    setValue(this.write(), key.offset, name, type, data);
  }

  /** Delete a value, which must exist. */
  deleteValue(key: HiveKey, name: string): void {
    deleteValue(this.write(), key.offset, name);
  }

  /** The hive file's bytes; after writes, with both sequence numbers advanced and the checksum updated. */
  toBuffer(): Buffer {
    if (this.changed) {
      sealBaseBlock(this.cells.buf, this.cells.end - BASE_BLOCK_SIZE, new Date());
      this.changed = false;
    }
    return Buffer.from(this.cells.buf.subarray(0, this.cells.end));
  }

  private write(): WriteContext {
    if (this.dirty) {
      // Even replayed: the logs stay on disk, and Windows would apply them again over our write.
      throw new HiveError(this.name, 'base block', this.replayed.length
        ? 'the hive was dirty and its logs were replayed in memory only: it is not written, as Windows would replay the logs over the write'
        : `sequence numbers ${this.sequence[0]} and ${this.sequence[1]} differ: the hive has unflushed changes in its .LOG1/.LOG2, which are not replayed, so it is not written`, 4);
    }
    if (!this.context) {
      this.cells.buf = Buffer.from(this.cells.buf.subarray(0, this.cells.end));
      this.context = { cells: this.cells, alloc: new Allocator(this.cells), minor: this.minor, stamp: 0n, root: this.root.offset };
    }
    this.context.stamp = filetime(new Date());
    this.changed = true;
    return this.context;
  }
}
