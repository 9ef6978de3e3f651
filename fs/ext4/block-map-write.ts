/**
 * Writing old ext2/ext3 block maps: like extent trees, the map is rebuilt from the file's
 * list of runs (12 direct slots, then single, double and triple indirect blocks, each
 * allocated only where some block below it is mapped).
 */
import { corrupt } from '../errors.js';
import type { BlockIO } from './block-io.js';
import type { Extent } from './extent-list.js';
import { normalize } from './extent-list.js';

const DIRECT = 12;

/** Every mapped run and every indirect block of a block-mapped inode. */
export async function readBlockMapTree(io: BlockIO, iBlock: Buffer, ino: number): Promise<{ extents: Extent[]; treeBlocks: number[] }> {
  const per = io.blockSize / 4;
  const extents: Extent[] = [];
  const treeBlocks: number[] = [];
  const add = (lblk: number, pblk: number): void => {
    if (BigInt(pblk) >= io.blocksCount) throw corrupt(io.name, `inode ${ino} block map`, `block ${pblk} is outside the filesystem`);
    const last = extents[extents.length - 1];
    if (last && last.lblk + last.len === lblk && last.pblk + last.len === pblk) last.len++;
    else extents.push({ lblk, pblk, len: 1, unwritten: false });
  };
  const walk = async (block: number, level: number, start: number): Promise<void> => {
    if (BigInt(block) >= io.blocksCount) throw corrupt(io.name, `inode ${ino} block map`, `indirect block ${block} is outside the filesystem`);
    const buf = await io.block(block, `inode ${ino} indirect block`);
    const span = per ** (level - 1);
    for (let i = 0; i < per; i++) {
      const b = buf.readUInt32LE(i * 4);
      if (!b) continue;
      if (level === 1) add(start + i, b);
      else await walk(b, level - 1, start + i * span);
    }
    // Children before their parent: the order `buildBlockMap` asks for blocks in.
    treeBlocks.push(block);
  };
  for (let i = 0; i < DIRECT; i++) {
    const b = iBlock.readUInt32LE(i * 4);
    if (b) add(i, b);
  }
  let start = DIRECT;
  for (let level = 1; level <= 3; level++) {
    const b = iBlock.readUInt32LE((DIRECT + level - 1) * 4);
    if (b) await walk(b, level, start);
    start += per ** level;
  }
  return { extents: normalize(extents), treeBlocks };
}

/** The largest logical block a block map can address, plus one. */
export function blockMapLimit(blockSize: number): number {
  const per = blockSize / 4;
  return DIRECT + per + per * per + per * per * per;
}

/**
 * Lay `list` out as a block map into `iBlock`; `allocate` gives a fresh block for each
 * indirect block needed. Returns the indirect blocks' contents to write.
 */
export async function buildBlockMap(list: Extent[], iBlock: Buffer, blockSize: number, allocate: () => Promise<number>): Promise<{ block: number; data: Buffer }[]> {
  const per = blockSize / 4;
  const out: { block: number; data: Buffer }[] = [];
  const ends = list.map((e) => e.lblk + e.len);
  /** Index of the first extent ending after `lblk`. */
  const firstAfter = (lblk: number): number => {
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ends[mid]! <= lblk) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const pblkOf = (lblk: number): number => {
    const e = list[firstAfter(lblk)];
    return e && e.lblk <= lblk ? e.pblk + (lblk - e.lblk) : 0;
  };
  const anyIn = (from: number, to: number): boolean => {
    const e = list[firstAfter(from)];
    return e !== undefined && e.lblk < to;
  };
  const build = async (level: number, start: number): Promise<number> => {
    const span = per ** (level - 1);
    if (!anyIn(start, start + span * per)) return 0;
    const data = Buffer.alloc(blockSize);
    for (let i = 0; i < per; i++) {
      const from = start + i * span;
      const child = level === 1 ? pblkOf(from) : anyIn(from, from + span) ? await build(level - 1, from) : 0;
      data.writeUInt32LE(child, i * 4);
    }
    const block = await allocate();
    out.push({ block, data });
    return block;
  };
  iBlock.fill(0);
  for (let i = 0; i < DIRECT; i++) iBlock.writeUInt32LE(pblkOf(i), i * 4);
  let start = DIRECT;
  for (let level = 1; level <= 3; level++) {
    iBlock.writeUInt32LE(await build(level, start), (DIRECT + level - 1) * 4);
    start += per ** level;
  }
  return out;
}
