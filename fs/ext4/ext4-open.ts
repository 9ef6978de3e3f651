/**
 * Opening an ext2/3/4 filesystem: the superblock, its features checked against what a
 * writable open can keep, the group descriptors, and a journal that needs recovery: replayed
 * in memory when read-only, for real (blocks, then a clean log, then the flag) when writable.
 */
import type { BlockDevice } from '../../disk/block-device.js';
import { FsError } from '../errors.js';
import type { FsOpenOptions } from '../filesystem.js';
import { BlockIO } from './block-io.js';
import { INCOMPAT, SUPERBLOCK_OFFSET, WRITABLE_INCOMPAT, WRITABLE_RO_COMPAT } from './constants.js';
import { GroupDescs } from './group-desc.js';
import { InodeTable } from './inode-table.js';
import { replayJournal } from './journal.js';
import { Superblock } from './superblock.js';

/** What every part of the driver is built on. */
export interface Ext4Parts {
  io: BlockIO;
  sb: Superblock;
  gd: GroupDescs;
  warn: (m: string) => void;
}

export async function openParts(dev: BlockDevice, opts: FsOpenOptions = {}): Promise<Ext4Parts> {
  const warn = opts.warn ?? ((m: string) => process.emitWarning(m));
  let sb = await Superblock.read(dev);
  const writable = opts.writable === true;
  if (writable && !dev.canWrite()) throw new FsError('EROFS', `${dev.name}: device is read-only`);
  if (writable) {
    const roUnknown = sb.roCompat & ~WRITABLE_RO_COMPAT;
    const inUnknown = sb.incompat & ~WRITABLE_INCOMPAT;
    if (roUnknown || inUnknown) {
      const which = [roUnknown ? `RO_COMPAT 0x${roUnknown.toString(16)}` : '', inUnknown ? `INCOMPAT 0x${inUnknown.toString(16)}` : ''].filter(Boolean).join(' and ');
      throw new FsError('EROFS', `${dev.name}: ext4 features ${which} cannot be written by this driver; open read-only`);
    }
  }
  let io = new BlockIO(dev, sb.blockSize, sb.blocksCount);
  let gd = await GroupDescs.read(io, sb);
  if (sb.has(INCOMPAT.RECOVER) && !sb.journalInum) {
    if (writable) throw new FsError('EROFS', `${dev.name}: needs recovery from an external journal, which this driver cannot replay; open read-only`);
    warn(`${dev.name}: needs recovery from an external journal; reading without it (recent changes may be missing)`);
  }
  if (sb.has(INCOMPAT.RECOVER) && sb.journalInum) {
    const inodes = new InodeTable(io, sb, gd);
    const jinode = await inodes.get(sb.journalInum);
    const replay = await replayJournal(io, inodes.fileMap(jinode), Math.floor(jinode.size / sb.blockSize), warn);
    if (replay && !writable) {
      warn(`${dev.name}: the journal needs recovery; reading through an in-memory replay of ${replay.transactions} transaction(s), the image is not changed`);
      io.overlay = replay.blocks;
    } else if (writable) {
      // Data before the marks that say it is there: replayed blocks, then a clean journal, then the superblock flag.
      for (const [b, o] of replay?.blocks ?? []) await io.write(b, await io.overlayData(o));
      await dev.flush();
      if (replay) await io.write(replay.cleanSuper.block, replay.cleanSuper.data);
      await dev.flush();
    }
    // Everything (superblock and descriptors included) may have been replayed: read again.
    sb = new Superblock(await superblockBytes(io), dev.name);
    if (writable && sb.has(INCOMPAT.RECOVER)) {
      sb.setIncompat(INCOMPAT.RECOVER, false);
      await dev.write(BigInt(SUPERBLOCK_OFFSET), sb.encode());
      await dev.flush();
    }
    const overlay = io.overlay;
    io = new BlockIO(dev, sb.blockSize, sb.blocksCount);
    io.overlay = overlay;
    gd = await GroupDescs.read(io, sb);
  }
  return { io, sb, gd, warn };
}

/** Read the 1024 superblock bytes through the block layer (journal overlay included). */
async function superblockBytes(io: BlockIO): Promise<Buffer> {
  const bs = io.blockSize;
  const block = Math.floor(SUPERBLOCK_OFFSET / bs);
  const buf = await io.readBlocks(block, Math.ceil((SUPERBLOCK_OFFSET + 1024) / bs) - block);
  const off = SUPERBLOCK_OFFSET - block * bs;
  return Buffer.from(buf.subarray(off, off + 1024));
}
