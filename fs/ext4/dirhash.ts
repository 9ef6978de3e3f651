/**
 * Directory index hashes (e2fsprogs lib/ext2fs/dirhash.c semantics): legacy, half-MD4 and TEA,
 * each in a signed-char and an unsigned-char flavour.
 */
export const HASH = { LEGACY: 0, HALF_MD4: 1, TEA: 2, LEGACY_UNSIGNED: 3, HALF_MD4_UNSIGNED: 4, TEA_UNSIGNED: 5 } as const;

const rotl = (x: number, s: number): number => ((x << s) | (x >>> (32 - s))) >>> 0;
const F = (x: number, y: number, z: number): number => (z ^ (x & (y ^ z))) >>> 0;
const G = (x: number, y: number, z: number): number => (((x & y) >>> 0) + (((x ^ y) & z) >>> 0)) >>> 0;
const H = (x: number, y: number, z: number): number => (x ^ y ^ z) >>> 0;
const K2 = 0o13240474631;
const K3 = 0o15666365641;

function halfMd4(buf: Uint32Array, inp: Uint32Array): void {
  let [a, b, c, d] = [buf[0]!, buf[1]!, buf[2]!, buf[3]!];
  const r = (f: typeof F, w: number, x: number, y: number, z: number, k: number, s: number): number => rotl((w + f(x, y, z) + k) >>> 0, s);
  const rounds: [typeof F, number, number[], number[]][] = [
    [F, 0, [0, 1, 2, 3, 4, 5, 6, 7], [3, 7, 11, 19]],
    [G, K2, [1, 3, 5, 7, 0, 2, 4, 6], [3, 5, 9, 13]],
    [H, K3, [3, 7, 2, 6, 1, 5, 0, 4], [3, 9, 11, 15]],
  ];
  for (const [f, k, order, shifts] of rounds) {
    for (let i = 0; i < 8; i += 4) {
      a = r(f, a, b, c, d, (inp[order[i]!]! + k) >>> 0, shifts[0]!);
      d = r(f, d, a, b, c, (inp[order[i + 1]!]! + k) >>> 0, shifts[1]!);
      c = r(f, c, d, a, b, (inp[order[i + 2]!]! + k) >>> 0, shifts[2]!);
      b = r(f, b, c, d, a, (inp[order[i + 3]!]! + k) >>> 0, shifts[3]!);
    }
  }
  buf[0] = buf[0]! + a;
  buf[1] = buf[1]! + b;
  buf[2] = buf[2]! + c;
  buf[3] = buf[3]! + d;
}

function tea(buf: Uint32Array, inp: Uint32Array): void {
  let sum = 0;
  let b0 = buf[0]!;
  let b1 = buf[1]!;
  const [a, b, c, d] = [inp[0]!, inp[1]!, inp[2]!, inp[3]!];
  for (let n = 0; n < 16; n++) {
    sum = (sum + 0x9e3779b9) >>> 0;
    b0 = (b0 + ((((b1 << 4) + a) ^ (b1 + sum) ^ ((b1 >>> 5) + b)) >>> 0)) >>> 0;
    b1 = (b1 + ((((b0 << 4) + c) ^ (b0 + sum) ^ ((b0 >>> 5) + d)) >>> 0)) >>> 0;
  }
  buf[0] = buf[0]! + b0;
  buf[1] = buf[1]! + b1;
}

function legacy(name: Uint8Array, unsigned: boolean): number {
  let h0 = 0x12a3fe2d;
  let h1 = 0x37abe8f9;
  for (const byte of name) {
    const c = unsigned || byte < 128 ? byte : byte - 256;
    let h = (h1 + ((h0 ^ Math.imul(c, 7152373)) >>> 0)) >>> 0;
    if (h & 0x80000000) h = (h - 0x7fffffff) >>> 0;
    h1 = h0;
    h0 = h;
  }
  return (h0 << 1) >>> 0;
}

/** Pack up to num*4 name bytes into words, padded with the length (str2hashbuf). */
function str2hashbuf(msg: Uint8Array, off: number, len: number, num: number, unsigned: boolean): Uint32Array {
  const out = new Uint32Array(num);
  let pad = (len | (len << 8)) >>> 0;
  pad = (pad | (pad << 16)) >>> 0;
  let val = pad;
  const n = Math.min(len, num * 4);
  let w = 0;
  for (let i = 0; i < n; i++) {
    const byte = msg[off + i]!;
    const c = unsigned || byte < 128 ? byte : byte - 256;
    val = (c + ((val << 8) >>> 0)) >>> 0;
    if (i % 4 === 3) {
      out[w++] = val;
      val = pad;
    }
  }
  if (w < num) out[w++] = val;
  while (w < num) out[w++] = pad;
  return out;
}

/** The major hash of `name` (low bit cleared, as htree stores it) and the minor hash. */
export function dirhash(version: number, name: Uint8Array, seed: number[]): { hash: number; minor: number } {
  const buf = new Uint32Array([0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476]);
  if (seed.some((s) => s !== 0)) seed.forEach((s, i) => (buf[i] = s));
  const unsigned = version >= HASH.LEGACY_UNSIGNED;
  let hash: number;
  let minor = 0;
  switch (version) {
    case HASH.LEGACY:
    case HASH.LEGACY_UNSIGNED:
      hash = legacy(name, unsigned);
      break;
    case HASH.HALF_MD4:
    case HASH.HALF_MD4_UNSIGNED:
      for (let off = 0, len = name.length; len > 0; off += 32, len -= 32) halfMd4(buf, str2hashbuf(name, off, len, 8, unsigned));
      hash = buf[1]!;
      minor = buf[2]!;
      break;
    case HASH.TEA:
    case HASH.TEA_UNSIGNED:
      for (let off = 0, len = name.length; len > 0; off += 16, len -= 16) tea(buf, str2hashbuf(name, off, len, 4, unsigned));
      hash = buf[0]!;
      minor = buf[1]!;
      break;
    default:
      throw new Error(`unknown directory hash version ${version}`);
  }
  return { hash: (hash & ~1) >>> 0, minor };
}
