/**
 * The 512-byte header of a hosted sparse extent ('KDMV'), shared by monolithicSparse,
 * twoGbMaxExtentSparse extents and streamOptimized images (where a copy sits in the footer).
 * Layout from VMware's "Virtual Disk Format 5.0" and libyal's libvmdk notes; all fields are
 * little-endian, offsets and sizes in 512-byte sectors.
 */
import { DiskError } from '../errors.js';

export const SECTOR = 512;
export const SPARSE_MAGIC = Buffer.from('KDMV', 'latin1');
/** gdOffset value of a streamOptimized header whose real grain directory is in the footer. */
export const GD_AT_END = 0xffffffffffffffffn;

const FLAG_VALID_NEWLINE_TEST = 0x1;
const FLAG_REDUNDANT_GT = 0x2;
const FLAG_ZERO_GTE = 0x4;
const FLAG_COMPRESSED = 0x10000;
const FLAG_MARKERS = 0x20000;
const COMPRESS_DEFLATE = 1;

// Caps on sizes an image may declare: nothing from the image sizes an allocation unbounded.
/** Largest grain we accept (16 MiB): a compressed grain is inflated into one buffer. */
export const MAX_GRAIN_SECTORS = 32768;
/** VMware always writes 512 entries; qemu refuses more than 512. A little slack for others. */
export const MAX_GTES_PER_GT = 4096;
/** 4 Mi entries (16 MiB) is a 256 TiB disk at the usual 64 KiB grains. */
export const MAX_GD_ENTRIES = 1 << 22;
/** Keep every byte offset inside an extent below 2^53, so extents can compute in numbers. */
export const MAX_CAPACITY_SECTORS = 1n << 43n;

export interface SparseHeader {
  version: number;
  flags: number;
  /** Size of the extent in sectors. */
  capacity: bigint;
  grainSectors: number;
  descriptorOffset: bigint;
  descriptorSize: bigint;
  gtesPerGt: number;
  rgdOffset: bigint;
  gdOffset: bigint;
  overhead: bigint;
  compressed: boolean;
  markers: boolean;
  /** A grain table entry of 1 means "this grain reads as zeros". */
  zeroGte: boolean;
  redundantGt: boolean;
  /** Number of grain directory entries the capacity needs. */
  gdEntries: number;
}

/**
 * Parse and check the header in `buf` (at least 512 bytes). `at` is its byte offset in the
 * file, for error messages (0 for the header, the footer's position for streamOptimized).
 */
export function parseSparseHeader(buf: Buffer, image: string, at: bigint | number): SparseHeader {
  const fail = (what: string): never => {
    throw new DiskError(image, `VMDK sparse header: ${what}`, at);
  };
  if (buf.length < SECTOR) fail(`only ${buf.length} bytes, a header needs ${SECTOR}`);
  if (!buf.subarray(0, 4).equals(SPARSE_MAGIC)) fail(`bad magic ${JSON.stringify(buf.subarray(0, 4).toString('latin1'))} (expected "KDMV")`);
  const version = buf.readUInt32LE(4);
  if (version < 1 || version > 3) fail(`version ${version} is not supported (1 to 3)`);
  const flags = buf.readUInt32LE(8);
  const capacity = buf.readBigUInt64LE(12);
  const grain = buf.readBigUInt64LE(20);
  const gtes = buf.readUInt32LE(44);
  const compressAlgorithm = buf.readUInt16LE(77);

  if (flags & FLAG_VALID_NEWLINE_TEST) {
    // A file moved through a text-mode transfer has these bytes rewritten.
    const nl = buf.subarray(73, 77);
    if (!nl.equals(Buffer.from('\n \r\n', 'latin1'))) fail(`newline test bytes ${nl.toString('hex')} are damaged (text-mode transfer?)`);
  }
  if (grain < 1n || grain > BigInt(MAX_GRAIN_SECTORS) || (grain & (grain - 1n)) !== 0n) {
    fail(`grain size of ${grain} sectors is not a power of two from 1 to ${MAX_GRAIN_SECTORS}`);
  }
  if (gtes < 1 || gtes > MAX_GTES_PER_GT) fail(`numGTEsPerGT ${gtes} is not from 1 to ${MAX_GTES_PER_GT}`);
  if (capacity > MAX_CAPACITY_SECTORS) fail(`capacity of ${capacity} sectors is larger than ${MAX_CAPACITY_SECTORS}`);
  const grainSectors = Number(grain);
  const gtSpan = BigInt(grainSectors) * BigInt(gtes);
  const gdEntries = (capacity + gtSpan - 1n) / gtSpan;
  if (gdEntries > BigInt(MAX_GD_ENTRIES)) fail(`grain directory of ${gdEntries} entries is larger than ${MAX_GD_ENTRIES}`);
  const compressed = (flags & FLAG_COMPRESSED) !== 0;
  if (compressed && compressAlgorithm !== COMPRESS_DEFLATE) fail(`compression algorithm ${compressAlgorithm} is not supported (1 = deflate)`);

  return {
    version,
    flags,
    capacity,
    grainSectors,
    descriptorOffset: buf.readBigUInt64LE(28),
    descriptorSize: buf.readBigUInt64LE(36),
    gtesPerGt: gtes,
    rgdOffset: buf.readBigUInt64LE(48),
    gdOffset: buf.readBigUInt64LE(56),
    overhead: buf.readBigUInt64LE(64),
    compressed,
    markers: (flags & FLAG_MARKERS) !== 0,
    zeroGte: (flags & FLAG_ZERO_GTE) !== 0,
    redundantGt: (flags & FLAG_REDUNDANT_GT) !== 0,
    gdEntries: Number(gdEntries),
  };
}

export function isSparseMagic(head: Buffer): boolean {
  return head.length >= 4 && head.subarray(0, 4).equals(SPARSE_MAGIC);
}
