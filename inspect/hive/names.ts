/**
 * Key and value names: stored either "compressed" (one Latin-1 byte per character, the flag
 * set when every character fits) or as UTF-16LE. Windows compares names case-insensitively by
 * upcasing each UTF-16 code unit, and sorts subkey lists in that order.
 */
import { compareKeys, UpCase } from '../../fs/ntfs/upcase.js';

export function decodeName(raw: Buffer, compressed: boolean): string {
  return raw.toString(compressed ? 'latin1' : 'utf16le');
}

/** A name in its stored form: compressed when every code unit is below 0x100, as Windows does. */
export function encodeName(name: string): { bytes: Buffer; compressed: boolean } {
  for (let i = 0; i < name.length; i++) {
    if (name.charCodeAt(i) > 0xff) return { bytes: Buffer.from(name, 'utf16le'), compressed: false };
  }
  return { bytes: Buffer.from(name, 'latin1'), compressed: true };
}

/**
 * Windows's own table is NLS data; per-unit `toUpperCase` agrees with it wherever one unit
 * maps to one. Built on the first name outside ASCII (65536 `toUpperCase` calls cost ~10 ms
 * of a start); ASCII names, nearly all of a registry's, upcase a-z alone.
 */
let upcase: UpCase | undefined;
function table(): UpCase {
  if (!upcase) {
    const t = new Uint16Array(65536);
    for (let c = 0; c < 65536; c++) {
      const u = String.fromCharCode(c).toUpperCase();
      t[c] = u.length === 1 ? u.charCodeAt(0) : c;
    }
    upcase = new UpCase(t);
  }
  return upcase;
}

/** The upcased code units a name is compared and sorted by. */
export function nameKey(name: string): Uint16Array {
  const k = new Uint16Array(name.length);
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0x80) return table().key(name);
    k[i] = c >= 0x61 && c <= 0x7a ? c - 0x20 : c;
  }
  return k;
}

export function compareNames(a: string, b: string): number {
  return compareKeys(nameKey(a), nameKey(b));
}

export function sameName(a: string, b: string): boolean {
  return a.length === b.length && compareNames(a, b) === 0;
}

/** The lh list's hash: hash * 37 + upcased unit over the name, modulo 2^32. */
export function lhHash(name: string): number {
  const k = nameKey(name);
  let h = 0;
  for (const u of k) h = (Math.imul(h, 37) + u) >>> 0;
  return h;
}

/** The lf list's hint: the name's first four characters, one byte each, NUL-padded. */
export function lfHint(name: string): Buffer {
  const b = Buffer.alloc(4);
  for (let i = 0; i < 4 && i < name.length; i++) b[i] = name.charCodeAt(i) & 0xff;
  return b;
}
