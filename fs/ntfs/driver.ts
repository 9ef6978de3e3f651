/** The NTFS driver entry: probe from the boot sector, open as NtfsFilesystem. */
import type { BlockDevice } from '../../disk/block-device.js';
import type { FsDriver } from '../filesystem.js';
import { lockedDriver } from '../locked.js';
import { parseBoot } from './boot.js';
import { NtfsFilesystem } from './ntfs.js';
import { NtfsWritable } from './ntfs-writable.js';

export const ntfsDriver: FsDriver = lockedDriver({
  type: 'ntfs',
  async probe(dev: BlockDevice): Promise<boolean> {
    if (dev.size < 1024n) return false;
    return typeof parseBoot(await dev.read(0n, 512), dev.size, 0n) !== 'string';
  },
  open: (dev, opts) => (opts?.writable ? NtfsWritable : NtfsFilesystem).open(dev, opts),
});
