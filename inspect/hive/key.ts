/** A key as callers see it: read from the hive at each call, so it stays true after writes. */
import type { Cells } from './cells.js';
import { HiveError } from './errors.js';
import { lhHash, sameName } from './names.js';
import { readNk } from './nk.js';
import { readSubkeyLists } from './subkey-list.js';
import type { HiveValue } from './value.js';
import { Value } from './value.js';
import { readValueList, readVk, readVkData } from './vk.js';

export interface HiveKey {
  readonly name: string;
  /** Byte offset of the key's nk cell in the hive file. */
  readonly offset: number;
  subkeys(): HiveKey[];
  subkey(name: string): HiveKey | undefined;
  values(): HiveValue[];
  value(name: string): HiveValue | undefined;
}

export class Key implements HiveKey {
  readonly name: string;

  constructor(
    private readonly cells: Cells,
    readonly offset: number,
  ) {
    this.name = readNk(cells, offset).name;
  }

  /** File offsets of the subkeys' nk records, in list order, checked against the nk's count. */
  subkeyOffsets(): number[] {
    const nk = readNk(this.cells, this.offset);
    if (nk.subkeyList === undefined || nk.subkeyCount === 0) return [];
    const out = readSubkeyLists(this.cells, nk.subkeyList).leaves.flatMap((l) => l.keys());
    if (out.length !== nk.subkeyCount) {
      throw new HiveError(this.cells.name, 'nk record', `key "${nk.name}" counts ${nk.subkeyCount} subkeys, its lists hold ${out.length}`, this.offset);
    }
    return out;
  }

  subkeys(): HiveKey[] {
    return this.subkeyOffsets().map((at) => new Key(this.cells, at));
  }

  subkey(name: string): Key | undefined {
    const nk = readNk(this.cells, this.offset);
    if (nk.subkeyList === undefined || nk.subkeyCount === 0) return undefined;
    // hivex hashes UTF-8 bytes, so only an ASCII name's hash can be trusted to rule keys out.
    const hash = /^[\x00-\x7f]*$/.test(name) ? lhHash(name) : undefined;
    for (const leaf of readSubkeyLists(this.cells, nk.subkeyList).leaves) {
      // lh hashes are of the upcased name, so a different hash means a different name.
      for (const at of leaf.candidates(hash)) {
        if (sameName(readNk(this.cells, at).name, name)) return new Key(this.cells, at);
      }
    }
    return undefined;
  }

  /** File offsets of the vk records, in list order. */
  valueOffsets(): number[] {
    const nk = readNk(this.cells, this.offset);
    if (nk.valueList === undefined || nk.valueCount === 0) return [];
    return readValueList(this.cells, nk.valueList, nk.valueCount);
  }

  private load(at: number): Value {
    const vk = readVk(this.cells, at);
    return new Value(this.cells.name, at, vk.name, vk.type, readVkData(this.cells, vk));
  }

  values(): HiveValue[] {
    return this.valueOffsets().map((at) => this.load(at));
  }

  /** The vk offset of the value with this name (case-insensitive; "" is the default value). */
  findValue(name: string): number | undefined {
    return this.valueOffsets().find((at) => sameName(readVk(this.cells, at).name, name));
  }

  value(name: string): HiveValue | undefined {
    const at = this.findValue(name);
    return at === undefined ? undefined : this.load(at);
  }
}
