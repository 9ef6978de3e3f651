/**
 * $UpCase: the volume's own upper-case table (65536 UTF-16 code units), which defines
 * case-insensitive name order in directory indexes.
 */
export class UpCase {
  constructor(private readonly table: Uint16Array) {}

  static fromBuffer(b: Buffer): UpCase {
    const n = Math.min(65536, b.length >> 1);
    const t = new Uint16Array(65536);
    for (let i = 0; i < 65536; i++) t[i] = i < n ? b.readUInt16LE(i * 2) : i;
    return new UpCase(t);
  }

  /** The upcased UTF-16 code units of `name`. */
  key(name: string): Uint16Array {
    const k = new Uint16Array(name.length);
    for (let i = 0; i < name.length; i++) k[i] = this.table[name.charCodeAt(i)]!;
    return k;
  }

  /** Upcased code units of a UTF-16LE name stored in `b` at [pos, pos + 2*len). */
  keyAt(b: Buffer, pos: number, len: number): Uint16Array {
    const k = new Uint16Array(len);
    for (let i = 0; i < len; i++) k[i] = this.table[b.readUInt16LE(pos + i * 2)]!;
    return k;
  }
}

export function compareKeys(a: Uint16Array, b: Uint16Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return a.length - b.length;
}
