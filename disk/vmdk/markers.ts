/**
 * streamOptimized markers. Every compressed grain starts with a grain marker (lba u64,
 * size u32, then `size` bytes of zlib data). Metadata is preceded by a one-sector metadata
 * marker (numSectors u64, size u32 = 0, type u32): end-of-stream, grain table, grain
 * directory or footer. A stream that was written front to back has gdOffset = GD_AT_END in
 * its header, and the real header is the footer: footer marker, footer, end-of-stream marker
 * as the last three sectors of the file.
 */
import type { BlockDevice } from '../block-device.js';
import { DiskError } from '../errors.js';
import { parseSparseHeader, SECTOR, type SparseHeader } from './sparse-header.js';

export const GRAIN_MARKER_BYTES = 12;

export enum MarkerType {
  EndOfStream = 0,
  GrainTable = 1,
  GrainDirectory = 2,
  Footer = 3,
}

export interface MetadataMarker {
  numSectors: bigint;
  type: MarkerType | number;
}

/** Parse a metadata marker sector; null when it is a grain marker (size field not 0). */
export function parseMetadataMarker(sector: Buffer): MetadataMarker | null {
  if (sector.readUInt32LE(8) !== 0) return null;
  return { numSectors: sector.readBigUInt64LE(0), type: sector.readUInt32LE(12) };
}

/** The header copy in the footer of a streamOptimized file, checked marker by marker. */
export async function readFooter(file: BlockDevice, image: string): Promise<SparseHeader> {
  if (file.size < BigInt(4 * SECTOR)) {
    throw new DiskError(image, `streamOptimized file of ${file.size} bytes is too small to hold a footer`);
  }
  const at = file.size - BigInt(3 * SECTOR);
  const tail = await file.read(at, 3 * SECTOR);
  const footerMarker = parseMetadataMarker(tail.subarray(0, SECTOR));
  if (!footerMarker || footerMarker.type !== MarkerType.Footer) {
    throw new DiskError(image, 'streamOptimized footer marker not found (header says the grain directory is at the end)', at);
  }
  const eos = parseMetadataMarker(tail.subarray(2 * SECTOR));
  if (!eos || eos.type !== MarkerType.EndOfStream) {
    throw new DiskError(image, 'streamOptimized end-of-stream marker not found after the footer', at + BigInt(2 * SECTOR));
  }
  const footerAt = at + BigInt(SECTOR);
  return parseSparseHeader(tail.subarray(SECTOR, 2 * SECTOR), `${image} (footer)`, footerAt);
}
