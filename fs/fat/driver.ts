/** The FAT driver entry: probing by BPB and opening, registered as 'vfat' as libguestfs names it. */
import type { BlockDevice } from '../../disk/block-device.js';
import type { FsDriver } from '../filesystem.js';
import { lockedDriver } from '../locked.js';
import { parseBpb } from './bpb.js';
import { FatFilesystem } from './fat-fs.js';
import { FatWritable } from './fat-writer.js';

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
  open: (dev, opts) => (opts?.writable ? FatWritable : FatFilesystem).open(dev, opts),
});
