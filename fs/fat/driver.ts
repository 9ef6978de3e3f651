/**
 * The FAT driver entry: probing by BPB and opening, registered as 'vfat' as libguestfs names it.
 * The driver itself loads only when a device is opened.
 */
import type { BlockDevice } from '../../disk/block-device.js';
import type { FsDriver } from '../filesystem.js';
import { lockedDriver } from '../locked.js';
import { parseBpb } from './bpb.js';

export const fatDriver: FsDriver = lockedDriver({
  type: 'vfat',
  async probe(dev: BlockDevice): Promise<boolean> {
    if (dev.size < 512n) return false;
    const boot = await dev.read(0n, 512);
    try {
      parseBpb(boot, dev.name, dev.size);
      return true;
    } catch {
      // Not a FAT boot sector (the read itself succeeded): some other filesystem's.
      return false;
    }
  },
  // The label may be the root directory's volume entry: that needs the driver (but not statfs's FAT scan).
  identify: async (dev) => (await import('./fat-fs.js')).FatFilesystem.identify(dev),
  open: async (dev, opts) => (opts?.writable ? (await import('./fat-writer.js')).FatWritable : (await import('./fat-fs.js')).FatFilesystem).open(dev, opts),
});
