/**
 * The ext2/3/4 FsDriver: probe by the superblock magic, open read-only or writable. The driver
 * itself loads only when a device is opened (start-up: probing needs none of it).
 */
import type { BlockDevice } from '../../disk/block-device.js';
import type { FsDriver, FsIdentity, FsOpenOptions, Filesystem } from '../filesystem.js';
import { lockedDriver } from '../locked.js';
import { EXT4_MAGIC, SUPERBLOCK_OFFSET } from './constants.js';

const MAGIC_AT = 0x38;

export const ext4Driver: FsDriver = lockedDriver({
  type: 'ext4',
  async probe(dev: BlockDevice): Promise<boolean> {
    if (dev.size < BigInt(SUPERBLOCK_OFFSET + 1024)) return false;
    const sb = await dev.read(BigInt(SUPERBLOCK_OFFSET), 1024);
    return sb.readUInt16LE(MAGIC_AT) === EXT4_MAGIC;
  },
  async identify(dev: BlockDevice): Promise<FsIdentity> {
    const sb = await (await import('./superblock.js')).Superblock.read(dev);
    return { type: sb.fsType, label: sb.label, uuid: sb.uuidString, size: sb.blocksCount * BigInt(sb.blockSize) };
  },
  async open(dev: BlockDevice, opts: FsOpenOptions = {}): Promise<Filesystem> {
    if (opts.writable) return (await import('./ext4-writer.js')).Ext4Writer.openWritable(dev, opts);
    return (await import('./ext4fs.js')).Ext4Fs.open(dev, opts);
  },
});
