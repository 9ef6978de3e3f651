/**
 * Writing extent trees: a file's mapping is kept as a sorted list of extents and the whole
 * tree is rebuilt from it (root in i_block, leaves and index blocks as needed). Simple, and
 * always a well-formed tree for e2fsck.
 */
import { corrupt } from '../errors.js';
import type { BlockIO } from './block-io.js';
import { EXT_ENTRY, EXT_HEADER, EXT_MAGIC, EXT_MAX_DEPTH, parseExtentNode } from './extents.js';
import type { Run } from './file-map.js';

export interface Extent {
  lblk: number;
  pblk: number;
  len: number;
  unwritten: boolean;
}

const MAX_INIT_LEN = 32768;
const MAX_UNWRITTEN_LEN = 32767;
const ROOT_ENTRIES = 4;

/** Every extent and every tree block (index and leaf blocks) of an inode's tree. */
export async function readExtentTree(io: BlockIO, iBlock: Buffer, ino: number): Promise<{ extents: Extent[]; treeBlocks: number[] }> {
  const extents: Extent[] = [];
  const treeBlocks: number[] = [];
  const visit = async (buf: Buffer, what: string, depth: number | undefined): Promise<void> => {
    const node = parseExtentNode(buf, what, io.name, io.blocksCount, depth);
    for (let i = 0; i < node.starts.length; i++) {
      if (node.depth === 0) extents.push({ lblk: node.starts[i]!, pblk: node.blocks[i]!, len: node.lens[i]!, unwritten: node.unwritten[i]! });
      else {
        const child = node.blocks[i]!;
        if (treeBlocks.length > 1 << 20) throw corrupt(io.name, what, 'extent tree too large');
        treeBlocks.push(child);
        await visit(await io.block(child, `inode ${ino} extent block`), `inode ${ino} extent block ${child}`, node.depth - 1);
      }
    }
  };
  await visit(iBlock, `inode ${ino} extent root`, undefined);
  return { extents, treeBlocks };
}

/** Replace the mapping of [lblk, lblk+len) with `pblk` (0 = a hole), keeping the list sorted and merged. */
export function setRange(list: Extent[], lblk: number, len: number, pblk: number, unwritten = false): Extent[] {
  const end = lblk + len;
  const out: Extent[] = [];
  for (const e of list) {
    const eEnd = e.lblk + e.len;
    if (eEnd <= lblk || e.lblk >= end) {
      out.push(e);
      continue;
    }
    if (e.lblk < lblk) out.push({ ...e, len: lblk - e.lblk });
    if (eEnd > end) out.push({ lblk: end, pblk: e.pblk + (end - e.lblk), len: eEnd - end, unwritten: e.unwritten });
  }
  if (pblk) out.push({ lblk, pblk, len, unwritten });
  out.sort((a, b) => a.lblk - b.lblk);
  return normalize(out);
}

/** Merge neighbours and split extents longer than the on-disk length field allows. */
export function normalize(list: Extent[]): Extent[] {
  const merged: Extent[] = [];
  for (const e of list) {
    const p = merged[merged.length - 1];
    if (p && p.unwritten === e.unwritten && p.lblk + p.len === e.lblk && p.pblk + p.len === e.pblk) p.len += e.len;
    else merged.push({ ...e });
  }
  const out: Extent[] = [];
  for (const e of merged) {
    const max = e.unwritten ? MAX_UNWRITTEN_LEN : MAX_INIT_LEN;
    for (let off = 0; off < e.len; off += max) out.push({ lblk: e.lblk + off, pblk: e.pblk + off, len: Math.min(max, e.len - off), unwritten: e.unwritten });
  }
  return out;
}

/** Blocks of [lblk, lblk+len) as runs (mapped or holes), from the list. */
export function runsOf(list: Extent[], lblk: number, len: number): Run[] {
  const out: Run[] = [];
  let cur = lblk;
  const end = lblk + len;
  for (const e of list) {
    if (e.lblk + e.len <= cur) continue;
    if (e.lblk >= end) break;
    if (e.lblk > cur) out.push({ lblk: cur, pblk: 0, len: e.lblk - cur });
    const from = Math.max(cur, e.lblk);
    const to = Math.min(end, e.lblk + e.len);
    out.push({ lblk: from, pblk: e.pblk + (from - e.lblk), len: to - from, unwritten: e.unwritten });
    cur = to;
  }
  if (cur < end) out.push({ lblk: cur, pblk: 0, len: end - cur });
  return out;
}

function header(buf: Buffer, entries: number, max: number, depth: number): void {
  buf.writeUInt16LE(EXT_MAGIC, 0);
  buf.writeUInt16LE(entries, 2);
  buf.writeUInt16LE(max, 4);
  buf.writeUInt16LE(depth, 6);
  buf.writeUInt32LE(0, 8);
}

function writeLeaf(buf: Buffer, i: number, e: Extent): void {
  const o = EXT_HEADER + i * EXT_ENTRY;
  buf.writeUInt32LE(e.lblk, o);
  buf.writeUInt16LE(e.len + (e.unwritten ? 32768 : 0), o + 4);
  buf.writeUInt16LE(Math.floor(e.pblk / 2 ** 32), o + 6);
  buf.writeUInt32LE(e.pblk % 2 ** 32, o + 8);
}

function writeIndex(buf: Buffer, i: number, lblk: number, block: number): void {
  const o = EXT_HEADER + i * EXT_ENTRY;
  buf.writeUInt32LE(lblk, o);
  buf.writeUInt32LE(block % 2 ** 32, o + 4);
  buf.writeUInt16LE(Math.floor(block / 2 ** 32), o + 8);
  buf.writeUInt16LE(0, o + 10);
}

/** How many tree blocks a list of `n` extents needs. */
export function treeBlocksNeeded(n: number, blockSize: number): number {
  const per = Math.floor((blockSize - EXT_HEADER) / EXT_ENTRY);
  let total = 0;
  let level = n;
  while (level > ROOT_ENTRIES) {
    level = Math.ceil(level / per);
    total += level;
  }
  return total;
}

/**
 * Lay the list out as a tree: the root into `iBlock`, tree blocks into the given blocks
 * (exactly `treeBlocksNeeded` of them). Returns the tree blocks' contents (checksum tails
 * still to fill by the caller, at `extentTailOffset`).
 */
export function buildTree(list: Extent[], iBlock: Buffer, blocks: number[], blockSize: number): { block: number; data: Buffer }[] {
  const per = Math.floor((blockSize - EXT_HEADER) / EXT_ENTRY);
  const out: { block: number; data: Buffer }[] = [];
  // Level 0 entries: the extents; each level up indexes the one below by its first lblk.
  let entries: { lblk: number; write: (buf: Buffer, i: number) => void }[] = list.map((e) => ({ lblk: e.lblk, write: (b, i) => writeLeaf(b, i, e) }));
  let depth = 0;
  let next = 0;
  while (entries.length > ROOT_ENTRIES) {
    if (depth >= EXT_MAX_DEPTH) throw new Error('extent tree would be too deep');
    const up: typeof entries = [];
    for (let i = 0; i < entries.length; i += per) {
      const chunk = entries.slice(i, i + per);
      const data = Buffer.alloc(blockSize);
      header(data, chunk.length, per, depth);
      chunk.forEach((c, j) => c.write(data, j));
      const block = blocks[next++]!;
      out.push({ block, data });
      up.push({ lblk: chunk[0]!.lblk, write: (b, j) => writeIndex(b, j, chunk[0]!.lblk, block) });
    }
    entries = up;
    depth++;
  }
  iBlock.fill(0);
  header(iBlock, entries.length, ROOT_ENTRIES, depth);
  entries.forEach((c, j) => c.write(iBlock, j));
  return out;
}

