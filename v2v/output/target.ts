/** A target disk file, created empty: raw (a sparse file of the right size) or a blank qcow2. */
import { writeFile } from 'node:fs/promises';
import type { BlockDevice } from '../../disk/block-device.js';
import { createImage } from '../../disk/qcow2/create.js';
import { RawFile } from '../../disk/raw.js';
import type { TargetFormat } from './output.js';

/** Create (or replace) `path` as a writable disk of `size` bytes that reads as zeros. */
export async function createTarget(path: string, format: TargetFormat, size: bigint): Promise<BlockDevice> {
  if (format === 'qcow2') return createImage(path, size);
  await writeFile(path, '');
  const file = await RawFile.open(path, true);
  try {
    await file.resize(size);
    return file;
  } catch (e) {
    await file.close();
    throw e;
  }
}
