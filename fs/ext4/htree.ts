/**
 * Hashed directory index (htree) lookup: the root in directory block 0 after "." and "..",
 * interior nodes in blocks with a single empty entry, each holding {hash, block} pairs. A
 * damaged index is reported as `null` so the caller can fall back to a linear scan.
 */
import { dirhash, HASH } from './dirhash.js';

const ROOT_INFO = 0x18;
const ROOT_ENTRIES = 0x20;
const NODE_ENTRIES = 0x8;
const DX_TAIL = 8;

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

/**
 * The logical leaf blocks to search for a name with `hash`: the leaf the index points to,
 * then following leaves while the next entry's hash continues the same value (collisions).
 * `readBlock` reads a directory logical block. Null when the index is damaged.
 */
export async function dxLeaves(
  root: Buffer,
  csum: boolean,
  maxLevels: number,
  dirBlocks: number,
  hashOf: (info: DxRootInfo) => number,
  readBlock: (lblk: number) => Promise<Buffer>,
  cache?: WeakMap<Buffer, DxNode | null>,
): Promise<number[] | null> {
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
  for (let level = 0; node; level++) {
    const i = dxFind(node, hash);
    if (level === info.levels) {
      const out = [node.blocks[i]!];
      for (let j = i + 1; j < node.count && (node.hashes[j]! & ~1) >>> 0 === hash && out.length < 64; j++) out.push(node.blocks[j]!);
      return out;
    }
    node = parse(await readBlock(node.blocks[i]!), false);
  }
  return null;
}
