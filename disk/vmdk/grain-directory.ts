/**
 * The grain directory: one u32 per grain table, the sector where that table lives (0 = the
 * whole table is unallocated). Sparse extents keep a primary and a redundant copy; we read
 * the primary and fall back to the redundant one when the primary does not fit in the file.
 */
import type { BlockDevice } from '../block-device.js';
import { DiskError } from '../errors.js';
import { MarkerType, parseMetadataMarker } from './markers.js';
import { SECTOR, type SparseHeader } from './sparse-header.js';

export async function readGrainDirectory(file: BlockDevice, image: string, header: SparseHeader, checkMarker: boolean): Promise<Uint32Array> {
  const bytes = BigInt(header.gdEntries * 4);
  const fits = (sector: bigint) => sector > 0n && sector * BigInt(SECTOR) + bytes <= file.size;
  let sector = header.gdOffset;
  if (!fits(sector)) {
    if (!fits(header.rgdOffset)) {
      throw new DiskError(image, `grain directory at sector ${header.gdOffset} (${bytes} bytes) is outside the file of ${file.size} bytes, and so is the redundant one at sector ${header.rgdOffset}`, header.gdOffset * BigInt(SECTOR));
    }
    sector = header.rgdOffset;
  }
  const at = sector * BigInt(SECTOR);
  if (checkMarker) await expectMarker(file, image, sector, MarkerType.GrainDirectory, 'grain directory');
  const buf = await file.read(at, Number(bytes));
  // Copy into an aligned array: the Buffer may be a slice of Node's pool.
  const gd = new Uint32Array(header.gdEntries);
  for (let i = 0; i < gd.length; i++) gd[i] = buf.readUInt32LE(i * 4);
  return gd;
}

/** In a stream written front to back, each table sits right after its metadata marker. */
export async function expectMarker(file: BlockDevice, image: string, sector: bigint, type: MarkerType, what: string): Promise<void> {
  const markerAt = (sector - 1n) * BigInt(SECTOR);
  const marker = sector >= 1n ? parseMetadataMarker(await file.read(markerAt, SECTOR)) : null;
  if (!marker || marker.type !== type) {
    throw new DiskError(image, `${what} at sector ${sector} is not preceded by its streamOptimized marker (type ${type})`, markerAt);
  }
}
