/**
 * CRC32C (Castagnoli), as ext4 and jbd2 use it: the raw register with no final inversion,
 * so a running checksum can be carried from one field to the next (`crc32c(crc32c(~0, a), b)`).
 */
import { CASTAGNOLI, crcUpdate } from '../../disk/crc.js';

/** Continue a CRC32C over `data[start, end)`; start a new one with `seed` 0xffffffff. */
export function crc32c(seed: number, data: Uint8Array, start = 0, end = data.length): number {
  return crcUpdate(CASTAGNOLI, seed, data, start, end);
}

const u32 = Buffer.alloc(4);

/** CRC32C of a little-endian 32-bit number (inode and group numbers enter checksums this way). */
export function crc32cU32(seed: number, value: number): number {
  u32.writeUInt32LE(value >>> 0);
  return crcUpdate(CASTAGNOLI, seed, u32);
}
