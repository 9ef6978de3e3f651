/**
 * Marvin32, Microsoft's keyed 64-bit hash (as in .NET's string hashing and SymCrypt). Windows
 * 8.1+ seals each transaction log entry of a hive with it (see `log.ts`).
 */

/** The seed Windows uses for hive log entries (little-endian 14219357686671994754). */
export const HIVE_LOG_SEED = 0x82ef4d887a4e55c5n;

const rotl = (x: number, n: number): number => ((x << n) | (x >>> (32 - n))) >>> 0;

/** Marvin32 of `data` with a 64-bit `seed`, as the 64-bit number (high half p1, low half p0). */
export function marvin32(data: Uint8Array, seed: bigint): bigint {
  let p0 = Number(seed & 0xffffffffn);
  let p1 = Number(seed >> 32n);
  const mix = () => {
    p1 = (p1 ^ p0) >>> 0;
    p0 = rotl(p0, 20);
    p0 = (p0 + p1) >>> 0;
    p1 = rotl(p1, 9);
    p1 = (p1 ^ p0) >>> 0;
    p0 = rotl(p0, 27);
    p0 = (p0 + p1) >>> 0;
    p1 = rotl(p1, 19);
  };
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let i = 0;
  for (; i + 4 <= data.length; i += 4) {
    p0 = (p0 + view.getUint32(i, true)) >>> 0;
    mix();
  }
  // The last 0–3 bytes, then a 0x80 end marker, in one final little-endian word.
  let last = 0x80;
  for (let k = data.length - 1; k >= i; k--) last = ((last << 8) | data[k]!) >>> 0;
  p0 = (p0 + last) >>> 0;
  mix();
  mix();
  return (BigInt(p1) << 32n) | BigInt(p0);
}
