/** A registry value as callers see it, with decoders for the common types. */
import { HiveError } from './errors.js';

export const REG = { NONE: 0, SZ: 1, EXPAND_SZ: 2, BINARY: 3, DWORD: 4, DWORD_BIG_ENDIAN: 5, LINK: 6, MULTI_SZ: 7, QWORD: 11 } as const;

export interface HiveValue {
  readonly name: string;
  readonly type: number;
  readonly data: Buffer;
  /** REG_SZ / REG_EXPAND_SZ / REG_LINK: UTF-16LE up to the first NUL. */
  string(): string;
  /** REG_MULTI_SZ: the strings up to the first empty one. */
  strings(): string[];
  /** REG_DWORD, REG_DWORD_BIG_ENDIAN, REG_QWORD (a bigint past 2^53). */
  number(): number | bigint;
}

const TYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(REG).map(([k, v]) => [v, `REG_${k}`]));

export function typeName(type: number): string {
  return TYPE_NAMES[type] ?? `type ${type}`;
}

function utf16(data: Buffer): string {
  return data.toString('utf16le', 0, data.length & ~1);
}

export class Value implements HiveValue {
  constructor(
    readonly hive: string,
    /** File offset of the vk record, for errors. */
    readonly offset: number,
    readonly name: string,
    readonly type: number,
    readonly data: Buffer,
  ) {}

  private wrongType(wanted: string): never {
    throw new HiveError(this.hive, 'vk record', `value "${this.name}" is ${typeName(this.type)}, not ${wanted}`, this.offset);
  }

  string(): string {
    if (this.type !== REG.SZ && this.type !== REG.EXPAND_SZ && this.type !== REG.LINK) this.wrongType('a string');
    const s = utf16(this.data);
    const nul = s.indexOf('\0');
    return nul < 0 ? s : s.slice(0, nul);
  }

  strings(): string[] {
    if (this.type !== REG.MULTI_SZ) this.wrongType('REG_MULTI_SZ');
    const out: string[] = [];
    for (const s of utf16(this.data).split('\0')) {
      if (s === '') break;
      out.push(s);
    }
    return out;
  }

  number(): number | bigint {
    const need = this.type === REG.QWORD ? 8 : 4;
    if (this.type !== REG.DWORD && this.type !== REG.DWORD_BIG_ENDIAN && this.type !== REG.QWORD) this.wrongType('a number');
    if (this.data.length < need) {
      throw new HiveError(this.hive, 'vk record', `value "${this.name}" (${typeName(this.type)}) has ${this.data.length} bytes, needs ${need}`, this.offset);
    }
    if (this.type === REG.DWORD) return this.data.readUInt32LE(0);
    if (this.type === REG.DWORD_BIG_ENDIAN) return this.data.readUInt32BE(0);
    const q = this.data.readBigUInt64LE(0);
    return q <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(q) : q;
  }
}
