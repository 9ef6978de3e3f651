/**
 * The FAT driver entry: probing by BPB and opening, registered as 'vfat' as libguestfs names it.
 * The driver itself loads only when a device is opened.
 */
import type { BlockDevice } from '../../disk/block-device.js';
import type { FsDriver } from '../filesystem.js';
import { parseBpb } from './bpb.js';

export const fatDriver: FsDriver = {
  type: 'vfat',
  async probe(dev: BlockDevice): Promise<boolean> {
    if (dev.size < 512n) return false;
    try {
      parseBpb(await dev.read(0n, 512), dev.name, dev.size);
      return true;
    } catch {
      return false;
    }
  },
  // The label may be the root directory's volume entry: that needs the driver (but not statfs's FAT scan).
  identify: async (dev) => (await import('./fat-fs.js')).FatFilesystem.identify(dev),
  open: async (dev, opts) => (await import('./fat-fs.js')).FatFilesystem.open(dev, opts),
};
