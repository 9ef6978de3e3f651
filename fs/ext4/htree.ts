/**
 * Hashed directory index (htree) lookup: the root in directory block 0 after "." and "..",
 * interior nodes in blocks with a single empty entry, each holding {hash, block} pairs. A
 * damaged index is reported as `null` so the caller can fall back to a linear scan.
 */
import { FsError } from '../errors.js';
import { crc32c } from './crc32c.js';
import { dirhash, HASH } from './dirhash.js';

const ROOT_INFO = 0x18;
const ROOT_ENTRIES = 0x20;
const NODE_ENTRIES = 0x8;
const DX_TAIL = 8;
const ZERO4 = Buffer.alloc(4);

/**
 * For a `.catch` on an htree walk: a damaged index (the driver's EIO from `corrupt()`) answers
 * null, so the caller scans linearly (or, writing, drops the index); anything else, a device's
 * read error above all, propagates: it says nothing about the index.
 */
export function nullIfDamaged(e: unknown): null {
  if (e instanceof FsError && e.code === 'EIO') return null;
  throw e;
}

export interface DxNode {
  limit: number;
  count: number;
  /** Entries [0, count): hash (entry 0: implicitly 0) and logical block. */
  hashes: number[];
  blocks: number[];
}

export interface DxRootInfo {
  hashVersion: number;
  levels: number;
}

export function parseRootInfo(block: Buffer, maxLevels: number): DxRootInfo | null {
  if (block.readUInt32LE(ROOT_INFO) !== 0 || block.readUInt8(ROOT_INFO + 5) !== 8) return null;
  const hashVersion = block.readUInt8(ROOT_INFO + 4);
  const levels = block.readUInt8(ROOT_INFO + 6);
  if (hashVersion > HASH.TEA || levels >= maxLevels) return null;
  return { hashVersion, levels };
}

/** The {limit,count} table of the root (at 0x20) or an interior node (at 0x8). */
export function parseDxNode(block: Buffer, root: boolean, csum: boolean, dirBlocks: number): DxNode | null {
  const at = root ? ROOT_ENTRIES : NODE_ENTRIES;
  if (!root && (block.readUInt32LE(0) !== 0 || block.readUInt16LE(4) !== (block.length === 65536 ? 65535 : block.length) && block.readUInt16LE(4) !== 0)) return null;
  const limit = block.readUInt16LE(at);
  const count = block.readUInt16LE(at + 2);
  const expect = (block.length - at - (csum ? DX_TAIL : 0)) / 8;
  if (limit !== Math.floor(expect) || count === 0 || count > limit) return null;
  const hashes: number[] = [];
  const blocks: number[] = [];
  for (let i = 0; i < count; i++) {
    const h = i === 0 ? 0 : block.readUInt32LE(at + i * 8);
    const b = block.readUInt32LE(at + i * 8 + 4);
    if (b >= dirBlocks || (i > 1 && h < hashes[i - 1]!)) return null;
    hashes.push(h);
    blocks.push(b);
  }
  return { limit, count, hashes, blocks };
}

/** Last entry whose hash is at or below `hash`. */
export function dxFind(node: DxNode, hash: number): number {
  let lo = 1;
  let hi = node.count - 1;
  let ans = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (node.hashes[mid]! <= hash) {
      ans = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return ans;
}

export function nameHash(info: DxRootInfo, unsignedFs: boolean, seed: number[], name: Buffer): number {
  const version = info.hashVersion <= HASH.TEA && unsignedFs ? info.hashVersion + 3 : info.hashVersion;
  return dirhash(version, name, seed).hash;
}

/** Where a name's hash leads in the index: leaves to search and the bottom index node. */
export interface DxLookup {
  info: DxRootInfo;
  hash: number;
  /** The leaf the index points at, then any continuing ones (hash collisions). */
  leaves: number[];
  /** The lowest index node on the path (logical block 0 for the root) and the entry taken. */
  bottom: { lblk: number; node: DxNode; index: number };
}

/**
 * Follow the index for a name with `hash`. `readBlock` reads a directory logical block.
 * Null when the index is damaged.
 */
export async function dxLeaves(
  root: Buffer,
  csum: boolean,
  maxLevels: number,
  dirBlocks: number,
  hashOf: (info: DxRootInfo) => number,
  readBlock: (lblk: number) => Promise<Buffer>,
  cache?: WeakMap<Buffer, DxNode | null>,
): Promise<DxLookup | null> {
  const info = parseRootInfo(root, maxLevels);
  if (!info) return null;
  const hash = hashOf(info);
  // Parsed nodes are kept per block buffer (the block cache's), so lookups skip re-parsing.
  const parse = (buf: Buffer, isRoot: boolean): DxNode | null => {
    let n = cache?.get(buf);
    if (n === undefined) {
      n = parseDxNode(buf, isRoot, csum, dirBlocks);
      cache?.set(buf, n);
    }
    return n;
  };
  let node = parse(root, true);
  let lblk = 0;
  for (let level = 0; node; level++) {
    const i = dxFind(node, hash);
    if (level === info.levels) {
      const leaves = [node.blocks[i]!];
      for (let j = i + 1; j < node.count && (node.hashes[j]! & ~1) >>> 0 === hash && leaves.length < 64; j++) leaves.push(node.blocks[j]!);
      return { info, hash, leaves, bottom: { lblk, node, index: i } };
    }
    lblk = node.blocks[i]!;
    node = parse(await readBlock(lblk), false);
  }
  return null;
}

/** Offset of the {limit, count} header: 0x20 in the root, 0x8 in other index nodes. */
export function dxCountOffset(root: boolean): number {
  return root ? ROOT_ENTRIES : NODE_ENTRIES;
}

/**
 * metadata_csum of an index node: crc32c over the header and used entries, then the tail's
 * reserved word and a zero checksum. `seed` is already carried through the inode and generation.
 */
export function dxCsum(seed: number, block: Buffer, root: boolean): number {
  const at = dxCountOffset(root);
  const limit = block.readUInt16LE(at);
  const count = block.readUInt16LE(at + 2);
  const tail = at + limit * 8;
  let c = crc32c(seed, block, 0, at + count * 8);
  c = crc32c(c, block, tail, tail + 4);
  return crc32c(c, ZERO4);
}

/** Insert {hash, block} as entry `pos` of an index node (room is the caller's to check). */
export function dxInsert(block: Buffer, root: boolean, pos: number, hash: number, child: number): void {
  const at = dxCountOffset(root);
  const count = block.readUInt16LE(at + 2);
  block.copy(block, at + (pos + 1) * 8, at + pos * 8, at + count * 8);
  block.writeUInt32LE(hash >>> 0, at + pos * 8);
  block.writeUInt32LE(child, at + pos * 8 + 4);
  block.writeUInt16LE(count + 1, at + 2);
}

/**
 * A new interior index node holding `entries` (raw 8-byte {hash, block} pairs; the first
 * pair's hash slot is overwritten by limit/count, as on disk).
 */
export function dxNewNode(blockSize: number, csum: boolean, entries: Buffer): Buffer {
  const buf = Buffer.alloc(blockSize);
  buf.writeUInt16LE(blockSize === 65536 ? 65535 : blockSize, 4);
  const limit = Math.floor((blockSize - NODE_ENTRIES - (csum ? DX_TAIL : 0)) / 8);
  entries.copy(buf, NODE_ENTRIES);
  buf.writeUInt16LE(limit, NODE_ENTRIES);
  buf.writeUInt16LE(entries.length / 8, NODE_ENTRIES + 2);
  return buf;
}

/** The raw pairs [from, to) of an index node (pair 0's hash slot reads as limit/count). */
export function dxPairs(block: Buffer, root: boolean, from: number, to: number): Buffer {
  const at = dxCountOffset(root);
  return Buffer.from(block.subarray(at + from * 8, at + to * 8));
}

/** Set an index node's count, and for the root its depth below (indirect_levels). */
export function dxSetCount(block: Buffer, root: boolean, count: number): void {
  block.writeUInt16LE(count, dxCountOffset(root) + 2);
}

export function dxSetLevels(root: Buffer, levels: number): void {
  root.writeUInt8(levels, ROOT_INFO + 6);
}
