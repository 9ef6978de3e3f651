/** inline_data: small files and directories kept in i_block (60 bytes) plus the system.data xattr. */
import type { Inode } from './inode.js';
import { I_BLOCK_BYTES } from './inode.js';

/** An inline file's bytes: i_block then the system.data value, cut to i_size. */
export function inlineFileData(inode: Inode, extra: Buffer | undefined): Buffer {
  const all = extra ? Buffer.concat([inode.iBlock, extra]) : Buffer.from(inode.iBlock);
  return all.subarray(0, Math.min(all.length, inode.size));
}

/**
 * An inline directory: the parent's inode number (4 bytes), then entries in the rest of
 * i_block, then entries in system.data. Returns the parent and the two entry regions.
 */
export function inlineDirRegions(inode: Inode, extra: Buffer | undefined): { parent: number; regions: Buffer[] } {
  const ib = inode.iBlock;
  const regions = [ib.subarray(4, I_BLOCK_BYTES)];
  if (extra && extra.length) regions.push(extra);
  return { parent: ib.readUInt32LE(0), regions };
}
