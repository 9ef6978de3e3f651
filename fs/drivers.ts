/** The filesystem drivers, in probing order. */
import type { BlockDevice } from '../disk/block-device.js';
import { ext4Driver } from './ext4/driver.js';
import { fatDriver } from './fat/driver.js';
import type { FsDriver } from './filesystem.js';
import { ntfsDriver } from './ntfs/driver.js';

export const drivers: FsDriver[] = [ext4Driver, ntfsDriver, fatDriver];

/**
 * The driver whose probe accepts this device, or undefined. A probe answers false for what is
 * not its filesystem; a device that cannot be read is an error, which goes up as it came.
 */
export async function probeFilesystem(dev: BlockDevice): Promise<FsDriver | undefined> {
  for (const d of drivers) {
    if (await d.probe(dev)) return d;
  }
  return undefined;
}
