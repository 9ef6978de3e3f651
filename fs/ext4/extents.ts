/**
 * Extent trees (kernel ext4 docs, "Extent Tree"): a 12-byte header then index or leaf entries,
 * the root in i_block. Depth is checked at every level (each child must be exactly one level
 * below its parent), which also makes loops impossible.
 */
import { Lru } from '../../disk/lru.js';
import { corrupt } from '../errors.js';
import type { BlockIO } from './block-io.js';
import type { FileMap, Run } from './file-map.js';

export const EXT_MAGIC = 0xf30a;
export const EXT_HEADER = 12;
export const EXT_ENTRY = 12;
/** The kernel never builds deeper trees than this. */
export const EXT_MAX_DEPTH = 5;
const UNWRITTEN_BASE = 32768;

export interface ExtentNode {
  depth: number;
  /** Logical start of each entry. */
  starts: number[];
  /** Leaf: physical start; index: child block. */
  blocks: number[];
  /** Leaf only: length of each extent, and whether it is unwritten. */
  lens: number[];
  unwritten: boolean[];
}

/** Parse and check one node (root in i_block, or a tree block). */
export function parseExtentNode(buf: Buffer, what: string, dev: string, blocksCount: bigint, expectDepth?: number): ExtentNode {
  if (buf.readUInt16LE(0) !== EXT_MAGIC) throw corrupt(dev, what, 'bad extent header magic');
  const entries = buf.readUInt16LE(2);
  const max = buf.readUInt16LE(4);
  const depth = buf.readUInt16LE(6);
  if (max * EXT_ENTRY + EXT_HEADER > buf.length || entries > max) throw corrupt(dev, what, `extent header has ${entries} of ${max} entries, more than fit`);
  if (depth > EXT_MAX_DEPTH || (expectDepth !== undefined && depth !== expectDepth)) {
    throw corrupt(dev, what, `extent node depth ${depth}${expectDepth !== undefined ? `, expected ${expectDepth}` : ''} (loop or damaged tree)`);
  }
  const node: ExtentNode = { depth, starts: [], blocks: [], lens: [], unwritten: [] };
  let prevEnd = -1;
  for (let i = 0; i < entries; i++) {
    const o = EXT_HEADER + i * EXT_ENTRY;
    const start = buf.readUInt32LE(o);
    if (start < prevEnd || (depth > 0 && start === prevEnd && i > 0)) throw corrupt(dev, what, `extent entry ${i} starts at logical block ${start}, out of order`);
    let block: number;
    if (depth > 0) {
      block = buf.readUInt32LE(o + 4) + buf.readUInt16LE(o + 8) * 2 ** 32;
      prevEnd = start;
      if (BigInt(block) >= blocksCount || block === 0) throw corrupt(dev, what, `extent index ${i} points at block ${block}, outside the filesystem`);
    } else {
      let len = buf.readUInt16LE(o + 4);
      const unwritten = len > UNWRITTEN_BASE;
      if (unwritten) len -= UNWRITTEN_BASE;
      block = buf.readUInt32LE(o + 8) + buf.readUInt16LE(o + 6) * 2 ** 32;
      if (len === 0 || BigInt(block) + BigInt(len) > blocksCount || block === 0) {
        throw corrupt(dev, what, `extent ${i} (${len} blocks at ${block}) is outside the filesystem`);
      }
      if (start + len > 2 ** 32) throw corrupt(dev, what, `extent ${i} passes the last logical block`);
      prevEnd = start + len;
      node.lens.push(len);
      node.unwritten.push(unwritten);
    }
    node.starts.push(start);
    node.blocks.push(block);
  }
  return node;
}

/** Where a tree block's checksum tail sits: right after eh_max entries. */
export function extentTailOffset(buf: Buffer): number {
  return EXT_HEADER + buf.readUInt16LE(4) * EXT_ENTRY;
}

/** Index of the last entry starting at or before `lblk`, or -1. */
function findEntry(starts: number[], lblk: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  let ans = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (starts[mid]! <= lblk) {
      ans = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return ans;
}

/** Parsed tree blocks shared by every file of a filesystem (bounded). */
export type ExtentCache = Lru<number, ExtentNode>;

export function extentCache(): ExtentCache {
  return new Lru(4096);
}

export class ExtentMap implements FileMap {
  private readonly root: ExtentNode;

  constructor(
    private readonly io: BlockIO,
    private readonly cache: ExtentCache,
    iBlock: Buffer,
    private readonly ino: number,
    /** metadata_csum: the checksum a tree block's tail must hold, or null. */
    private readonly csumOf: ((buf: Buffer, tailAt: number) => number) | null,
  ) {
    this.root = parseExtentNode(iBlock, `inode ${ino} extent root`, io.name, io.blocksCount);
  }

  private async child(block: number, depth: number): Promise<ExtentNode> {
    const hit = this.cache.get(block);
    if (hit && hit.depth === depth) return hit;
    const buf = await this.io.block(block, `inode ${this.ino} extent block`);
    const what = `inode ${this.ino} extent block ${block}`;
    const tailAt = extentTailOffset(buf);
    if (this.csumOf && tailAt + 4 <= buf.length && this.csumOf(buf, tailAt) !== buf.readUInt32LE(tailAt)) {
      throw corrupt(this.io.name, what, 'checksum mismatch', BigInt(block) * BigInt(this.io.blockSize));
    }
    const node = parseExtentNode(buf, what, this.io.name, this.io.blocksCount, depth);
    this.cache.set(block, node);
    return node;
  }

  async map(lblk: number, maxLen: number): Promise<Run> {
    let node = this.root;
    // `limit`: where the subtree we are in ends (the next index entry's start).
    let limit = 2 ** 32;
    while (node.depth > 0) {
      const i = findEntry(node.starts, lblk);
      if (i < 0) {
        // Before the first index entry: a hole up to it.
        return { lblk, pblk: 0, len: Math.min(maxLen, (node.starts[0] ?? limit) - lblk) };
      }
      if (i + 1 < node.starts.length) limit = Math.min(limit, node.starts[i + 1]!);
      node = await this.child(node.blocks[i]!, node.depth - 1);
    }
    const i = findEntry(node.starts, lblk);
    if (i >= 0 && lblk < node.starts[i]! + node.lens[i]!) {
      const off = lblk - node.starts[i]!;
      const len = Math.min(maxLen, node.lens[i]! - off);
      return { lblk, pblk: node.blocks[i]! + off, len, unwritten: node.unwritten[i]! };
    }
    const next = Math.min(limit, node.starts[i + 1] ?? limit);
    return { lblk, pblk: 0, len: Math.max(1, Math.min(maxLen, next - lblk)) };
  }
}
