/**
 * CRC-32 (IEEE) as GPT uses it, and LVM2's variant of the same CRC (seeded with 0xf597a6cf,
 * no final inversion). Not node:zlib's `crc32`: loading node:zlib costs a command about
 * 15 ms of start-up.
 */
import { crcUpdate, IEEE } from '../disk/crc.js';

export function crc32(data: Uint8Array): number {
  return ~crcUpdate(IEEE, 0xffffffff, data) >>> 0;
}

const LVM_INITIAL_CRC = 0xf597a6cf;

/** LVM2's calc_crc(INITIAL_CRC, data): the register as is, with no inversions. */
export function lvmCrc(data: Uint8Array): number {
  return crcUpdate(IEEE, LVM_INITIAL_CRC, data);
}
