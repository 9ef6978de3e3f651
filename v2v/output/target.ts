/**
 * A target disk file, created empty: raw (a sparse file of the right size) or a blank qcow2.
 * Its host file writes behind: a datasync starts in the background every WRITE_BEHIND bytes,
 * so the disk writes while the copy reads, and the final flush finds little left to write.
 */
import { writeFile } from 'node:fs/promises';
import type { BlockDevice } from '../../disk/block-device.js';
import { createImage } from '../../disk/qcow2/create.js';
import { RawFile } from '../../disk/raw.js';
import type { TargetFormat } from './output.js';

/** Small next to the page cache, large next to a 2 MiB request: 32 copy chunks. */
const WRITE_BEHIND = 64 << 20;

/** Create (or replace) `path` as a writable disk of `size` bytes that reads as zeros. */
export async function createTarget(path: string, format: TargetFormat, size: bigint): Promise<BlockDevice> {
  if (format === 'qcow2') return createImage(path, size, { fileOptions: { writeBehind: WRITE_BEHIND } });
  await writeFile(path, '');
  const file = await RawFile.open(path, true, { writeBehind: WRITE_BEHIND });
  try {
    await file.resize(size);
    return file;
  } catch (e) {
    await file.close();
    throw e;
  }
}
