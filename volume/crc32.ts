/**
 * CRC-32 (IEEE, reflected 0xEDB88320) as GPT uses it, and LVM2's variant of the same CRC
 * (seeded with 0xf597a6cf, no final inversion). node:zlib has `crc32` on every Node this
 * project supports (added in 20.15), so no table of our own is needed.
 */
import { crc32 as zlibCrc32 } from 'node:zlib';

export function crc32(data: Uint8Array): number {
  return zlibCrc32(data) >>> 0;
}

const LVM_INITIAL_CRC = 0xf597a6cf;

/** LVM2's calc_crc(INITIAL_CRC, data): zlib's crc32 pre- and post-inverts, so undo both. */
export function lvmCrc(data: Uint8Array): number {
  return ~zlibCrc32(data, ~LVM_INITIAL_CRC >>> 0) >>> 0;
}
