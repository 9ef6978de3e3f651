/**
 * CRC32C (Castagnoli), as ext4 and jbd2 use it: the raw register with no final inversion,
 * so a running checksum can be carried from one field to the next (`crc32c(crc32c(~0, a), b)`).
 */
const TABLES = buildTables();

function buildTables(): Uint32Array[] {
  const t0 = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t0[n] = c >>> 0;
  }
  // Slicing-by-8 tables: every inode a listing touches is checksummed.
  const tables = [t0];
  for (let k = 1; k < 8; k++) {
    const prev = tables[k - 1]!;
    const t = new Uint32Array(256);
    for (let n = 0; n < 256; n++) t[n] = (prev[n]! >>> 8) ^ t0[prev[n]! & 0xff]!;
    tables.push(t);
  }
  return tables;
}

/** Continue a CRC32C over `data[start, end)`; start a new one with `seed` 0xffffffff. */
export function crc32c(seed: number, data: Uint8Array, start = 0, end = data.length): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array];
  let crc = seed >>> 0;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const lo = (crc ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24))) >>> 0;
    crc = t7[lo & 0xff]! ^ t6[(lo >>> 8) & 0xff]! ^ t5[(lo >>> 16) & 0xff]! ^ t4[lo >>> 24]! ^
      t3[data[i + 4]!]! ^ t2[data[i + 5]!]! ^ t1[data[i + 6]!]! ^ t0[data[i + 7]!]!;
  }
  for (; i < end; i++) crc = t0[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return crc >>> 0;
}

/** CRC32C of a little-endian 32-bit number (inode and group numbers enter checksums this way). */
export function crc32cU32(seed: number, value: number): number {
  const t0 = TABLES[0]!;
  let crc = seed >>> 0;
  for (let k = 0; k < 4; k++) crc = t0[(crc ^ (value >>> (8 * k))) & 0xff]! ^ (crc >>> 8);
  return crc >>> 0;
}
