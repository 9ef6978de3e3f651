/** The filesystem drivers, in probing order. */
import type { BlockDevice } from '../disk/block-device.js';
import type { FsDriver } from './filesystem.js';
import { fatDriver } from './fat/driver.js';

export const drivers: FsDriver[] = [fatDriver];

/** The driver whose probe accepts this device, or undefined. */
export async function probeFilesystem(dev: BlockDevice): Promise<FsDriver | undefined> {
  for (const d of drivers) {
    if (await d.probe(dev).catch(() => false)) return d;
  }
  return undefined;
}
