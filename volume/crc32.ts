/**
 * CRC-32 (IEEE, reflected 0xEDB88320) as GPT uses it, and LVM2's variant of the same CRC
 * (seeded with 0xf597a6cf, no final inversion). A table of our own rather than node:zlib's
 * `crc32`: loading node:zlib costs every command about 15 ms of start-up, and these CRCs
 * cover a few KiB of headers.
 */
const TABLE = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  TABLE[n] = c >>> 0;
}

/** The reflected CRC register after `data`, from register value `crc` (no inversions). */
function update(crc: number, data: Uint8Array): number {
  for (let i = 0; i < data.length; i++) crc = TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return crc >>> 0;
}

export function crc32(data: Uint8Array): number {
  return ~update(0xffffffff, data) >>> 0;
}

const LVM_INITIAL_CRC = 0xf597a6cf;

/** LVM2's calc_crc(INITIAL_CRC, data): the register as is, with no inversions. */
export function lvmCrc(data: Uint8Array): number {
  return update(LVM_INITIAL_CRC, data);
}
