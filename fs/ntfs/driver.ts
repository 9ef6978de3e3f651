/**
 * The NTFS driver entry: probe from the boot sector, open as NtfsFilesystem. The driver itself
 * loads only when a device is opened.
 */
import type { BlockDevice } from '../../disk/block-device.js';
import type { FsDriver } from '../filesystem.js';
import { lockedDriver } from '../locked.js';
import { ntfsUuid, parseBoot, readBoot } from './boot.js';

export const ntfsDriver: FsDriver = lockedDriver({
  type: 'ntfs',
  async probe(dev: BlockDevice): Promise<boolean> {
    if (dev.size < 1024n) return false;
    return typeof parseBoot(await dev.read(0n, 512), dev.size, 0n) !== 'string';
  },
  async identify(dev: BlockDevice) {
    // The label is $Volume's $VOLUME_NAME: the boot sector, then one MFT record.
    const [{ Mft }, { volumeInfo }] = await Promise.all([import('./mft.js'), import('./volume-state.js')]);
    const boot = await readBoot(dev);
    const mft = await Mft.open({ dev, clusterSize: boot.clusterSize, totalClusters: boot.totalClusters }, boot);
    return { type: 'ntfs', label: (await volumeInfo(mft)).label, uuid: ntfsUuid(boot), size: BigInt(boot.totalClusters) * BigInt(boot.clusterSize) };
  },
  open: async (dev, opts) => (opts?.writable ? (await import('./ntfs-writable.js')).NtfsWritable : (await import('./ntfs.js')).NtfsFilesystem).open(dev, opts),
});
