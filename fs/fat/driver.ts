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
    try {
      parseBpb(await dev.read(0n, 512), dev.name, dev.size);
      return true;
    } catch {
      return false;
    }
  },
  open: (dev, opts) => (opts?.writable ? FatWritable : FatFilesystem).open(dev, opts),
});
