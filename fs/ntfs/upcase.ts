/**
 * $UpCase: the volume's own upper-case table (65536 UTF-16 code units), which defines
 * case-insensitive name order in directory indexes.
 */
const BIG_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 0;

export class UpCase {
  constructor(private readonly table: Uint16Array) {}

  static fromBuffer(b: Buffer): UpCase {
    const n = Math.min(65536, b.length >> 1);
    // The little-endian units copied whole (a unit at a time was ~10 ms of a cold start).
    const units = Buffer.from(b.subarray(0, n * 2));
    if (BIG_ENDIAN_HOST) units.swap16();
    const t = new Uint16Array(65536);
    t.set(new Uint16Array(units.buffer, units.byteOffset, n));
    for (let i = n; i < 65536; i++) t[i] = i;
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
