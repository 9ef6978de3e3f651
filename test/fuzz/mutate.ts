/**
 * Seeded damage to images. Binary images get patches laid over the clean bytes (bit flips,
 * random bytes, boundary values, pointers aimed at themselves or at the header, blocks
 * copied over other blocks, truncation), aimed mostly at the bytes the clean read path read
 * ("hot" ranges: metadata is read in small pieces, so picking a read, not a byte, favours
 * it). Text (LVM metadata, VMDK descriptors) gets edits that change its length too.
 */
import type { Patch } from './image-device.js';

export type Rand = (n: number) => number;

export interface Damage {
  patches: Patch[];
  /** The image's new length (truncation), or its full length. */
  length: number;
  /** What was done, for the report of a finding. */
  ops: string[];
}

/** 0, all ones, the sign bit, its neighbours, 2^32: per width in bytes. */
function boundaries(width: number): bigint[] {
  const bits = BigInt(width * 8);
  const top = 1n << (bits - 1n);
  const all = (1n << bits) - 1n;
  const out = [0n, 1n, all, all - 1n, top, top - 1n];
  if (width === 8) out.push(1n << 32n, 1n << 31n, (1n << 32n) - 1n);
  return out;
}

function encode(value: bigint, width: number, bigEndian: boolean): Buffer {
  const b = Buffer.alloc(width);
  const v = BigInt.asUintN(width * 8, value);
  for (let i = 0; i < width; i++) b[bigEndian ? width - 1 - i : i] = Number((v >> BigInt(8 * i)) & 0xffn);
  return b;
}

/** Pick a byte position: 90% inside a range the clean run read, else anywhere. */
function position(rnd: Rand, size: number, hot: [number, number][]): number {
  const r = hot.length > 0 && rnd(10) < 9 ? hot[rnd(hot.length)]! : [0, size] as [number, number];
  return Math.min(size - 1, r[0] + rnd(Math.max(1, Math.min(r[1], 4096))));
}

/** One case's damage: 1 to 4 operations. */
export function damage(rnd: Rand, clean: Buffer, hot: [number, number][]): Damage {
  const size = clean.length;
  const patches: Patch[] = [];
  const ops: string[] = [];
  let length = size;
  for (let k = 0, n = 1 + rnd(4); k < n; k++) {
    const at = position(rnd, size, hot);
    const width = [1, 2, 4, 8][rnd(4)]!;
    const aligned = Math.min(at - (at % width), size - width);
    const be = rnd(2) === 0;
    switch (rnd(7)) {
      case 0: {
        const bit = rnd(8);
        patches.push({ at, bytes: Buffer.of(clean[at]! ^ (1 << bit)) });
        ops.push(`flip bit ${bit} at ${at}`);
        break;
      }
      case 1: {
        const v = rnd(256);
        patches.push({ at, bytes: Buffer.of(v) });
        ops.push(`byte ${v} at ${at}`);
        break;
      }
      case 2: {
        const values = boundaries(width);
        const v = values[rnd(values.length)]!;
        patches.push({ at: aligned, bytes: encode(v, width, be) });
        ops.push(`u${width * 8}${be ? 'be' : 'le'} ${v} at ${aligned}`);
        break;
      }
      case 3: {
        // A pointer to itself (in bytes, sectors, blocks or clusters), or to the header.
        const unit = [1, 512, 1024, 4096, 65536][rnd(5)]!;
        const w = width < 4 ? 4 : width;
        const where = Math.min(at - (at % w), size - w);
        const v = rnd(4) === 0 ? 0n : BigInt(Math.floor(where / unit));
        patches.push({ at: where, bytes: encode(v, w, be) });
        ops.push(`pointer u${w * 8}${be ? 'be' : 'le'} ${v} (unit ${unit}) at ${where}`);
        break;
      }
      case 4: {
        // A block the read path read, copied over another (a directory block into itself…).
        const src = position(rnd, size, hot);
        const len = Math.min(512 << rnd(4), size - Math.max(src, at));
        if (len > 0) patches.push({ at, bytes: Buffer.from(clean.subarray(src, src + len)) });
        ops.push(`copy ${len} bytes from ${src} to ${at}`);
        break;
      }
      case 5: {
        const n = 1 + rnd(64);
        patches.push({ at, bytes: Buffer.alloc(Math.min(n, size - at), rnd(2) ? 0 : 0xff) });
        ops.push(`fill ${n} at ${at}`);
        break;
      }
      default: {
        length = Math.min(length, rnd(3) === 0 ? at : size - 1 - rnd(Math.min(size, 65536)));
        ops.push(`truncate to ${length}`);
      }
    }
  }
  return { patches, length, ops };
}

const TOKENS = ['{', '}', '[', ']', '=', '"', ',', '\n', '#', ' ', '\\', '\0', '-', '.'];
const NUMBERS = ['0', '-1', '2147483648', '4294967296', '9223372036854775808', '18446744073709551616', '1e309', '99999999999999999999999999'];

/** Edits of a text: numbers swapped for boundary values, spans deleted or doubled, tokens inserted. */
export function damageText(rnd: Rand, text: Buffer): { bytes: Buffer; ops: string[] } {
  let s = text.toString('latin1');
  const ops: string[] = [];
  for (let k = 0, n = 1 + rnd(4); k < n && s.length > 0; k++) {
    const at = rnd(s.length);
    switch (rnd(5)) {
      case 0: {
        const re = /\d+/g;
        re.lastIndex = at;
        const m = re.exec(s) ?? /\d+/.exec(s);
        if (!m) break;
        const v = NUMBERS[rnd(NUMBERS.length)]!;
        s = s.slice(0, m.index) + v + s.slice(m.index + m[0].length);
        ops.push(`number at ${m.index} → ${v}`);
        break;
      }
      case 1: {
        const len = 1 + rnd(40);
        s = s.slice(0, at) + s.slice(at + len);
        ops.push(`delete ${len} at ${at}`);
        break;
      }
      case 2: {
        const len = 1 + rnd(200);
        s = s.slice(0, at) + s.slice(at, at + len) + s.slice(at);
        ops.push(`double ${len} at ${at}`);
        break;
      }
      case 3: {
        const t = TOKENS[rnd(TOKENS.length)]!;
        s = s.slice(0, at) + t + s.slice(at);
        ops.push(`insert ${JSON.stringify(t)} at ${at}`);
        break;
      }
      default: {
        const c = rnd(256);
        s = s.slice(0, at) + String.fromCharCode(c) + s.slice(at + 1);
        ops.push(`byte ${c} at ${at}`);
      }
    }
  }
  return { bytes: Buffer.from(s, 'latin1'), ops };
}
