/** metadata_csum checksums of the structures that belong to one inode or block. */
import { crc32c, crc32cU32 } from './crc32c.js';
import { DIR_TAIL_SIZE } from './dirent.js';
import type { Inode } from './inode.js';

/** Checksum of per-inode metadata blocks: crc32c(seed, ino, generation, block[0, end)). */
export function inodeCsum(seed: number, inode: Inode, block: Buffer, end: number): number {
  return crc32c(crc32cU32(crc32cU32(seed, inode.ino), inode.generation), block, 0, end);
}

/** Directory block checksum: over the block up to its tail. */
export function dirBlockCsum(seed: number, inode: Inode, block: Buffer): number {
  return inodeCsum(seed, inode, block, block.length - DIR_TAIL_SIZE);
}

/** xattr block checksum: crc32c(seed, block number as LE64, block with h_checksum zeroed). */
export function xattrBlockCsum(seed: number, block: number, buf: Buffer): number {
  const nr = Buffer.alloc(8);
  nr.writeBigUInt64LE(BigInt(block));
  const copy = Buffer.from(buf);
  copy.writeUInt32LE(0, 0x10);
  return crc32c(crc32c(seed, nr), copy);
}
