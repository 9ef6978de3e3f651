/** The ext2/3/4 FsDriver: probe by the superblock magic, open read-only or writable. */
import type { BlockDevice } from '../../disk/block-device.js';
import type { FsDriver, FsOpenOptions, Filesystem } from '../filesystem.js';
import { lockedDriver } from '../locked.js';
import { EXT4_MAGIC, SUPERBLOCK_OFFSET } from './constants.js';
import { Ext4Fs } from './ext4fs.js';
import { Ext4Writer } from './ext4-writer.js';

const MAGIC_AT = 0x38;

export const ext4Driver: FsDriver = lockedDriver({
  type: 'ext4',
  async probe(dev: BlockDevice): Promise<boolean> {
    if (dev.size < BigInt(SUPERBLOCK_OFFSET + 1024)) return false;
    const sb = await dev.read(BigInt(SUPERBLOCK_OFFSET), 1024);
    return sb.readUInt16LE(MAGIC_AT) === EXT4_MAGIC;
  },
  async open(dev: BlockDevice, opts: FsOpenOptions = {}): Promise<Filesystem> {
    return opts.writable ? Ext4Writer.openWritable(dev, opts) : Ext4Fs.open(dev, opts);
  },
});
