/**
 * Laying out a directory index from its sorted entries: all in $INDEX_ROOT when they fit,
 * else a B+ tree of "INDX" blocks, built bottom-up. Each full block passes its next entry up
 * as the separator to the level above (NTFS keeps real keys in inner nodes), so every change
 * to a directory rewrites its index into valid, balanced nodes.
 */
import { ENTRY_FLAG } from './index.js';

export interface Entry {
  /** First 8 bytes: the file reference. */
  head: Buffer;
  key: Buffer;
  child?: number;
}

export interface Node {
  entries: Entry[];
  endChild?: number;
}

const align8 = (n: number): number => (n + 7) & ~7;

export function entrySize(e: Entry): number {
  return 16 + align8(e.key.length) + (e.child !== undefined ? 8 : 0);
}

export function nodeSize(n: Node): number {
  return n.entries.reduce((s, e) => s + entrySize(e), 0) + 16 + (n.endChild !== undefined ? 8 : 0);
}

/** Serialize a node's entries (and its end entry). */
export function encodeEntries(n: Node): Buffer {
  const out = Buffer.alloc(nodeSize(n));
  let p = 0;
  const put = (e: Entry | undefined, child: number | undefined): void => {
    const len = e ? entrySize({ ...e, child }) : 16 + (child !== undefined ? 8 : 0);
    if (e) e.head.copy(out, p, 0, 8);
    out.writeUInt16LE(len, p + 8);
    out.writeUInt16LE(e ? e.key.length : 0, p + 10);
    out.writeUInt16LE((child !== undefined ? ENTRY_FLAG.SUBNODE : 0) | (e ? 0 : ENTRY_FLAG.LAST), p + 12);
    if (e) e.key.copy(out, p + 16);
    if (child !== undefined) out.writeBigUInt64LE(BigInt(child), p + len - 8);
    p += len;
  };
  for (const e of n.entries) put(e, e.child);
  put(undefined, n.endChild);
  return out;
}

export interface Layout {
  root: Node;
  /** Blocks by VCN. */
  blocks: Map<number, Node>;
}

/**
 * Build the tree. `rootFits(node)` says whether a node fits $INDEX_ROOT; `blockCap` is the
 * bytes of entries a block holds; `newVcn()` hands out block VCNs.
 */
export function layoutIndex(entries: Entry[], rootFits: (n: Node) => boolean, blockCap: number, newVcn: () => number): Layout {
  const blocks = new Map<number, Node>();
  let level: Node = { entries: entries.map((e) => ({ head: e.head, key: e.key })) };
  // Fill blocks to about three quarters, so one more entry never overflows one.
  const target = Math.floor(blockCap * 0.75);
  for (let depth = 0; !rootFits(level); depth++) {
    if (depth > 16) throw new Error('index tree deeper than 16 levels');
    const up: Entry[] = [];
    let cur: Node = { entries: [] };
    const all = level.entries;
    for (let i = 0; i < all.length; i++) {
      const e = all[i]!;
      const closing = cur.entries.length > 0 && i < all.length - 1 && nodeSize(cur) + entrySize(e) > target;
      if (closing) {
        const vcn = newVcn();
        cur.endChild = e.child;
        blocks.set(vcn, cur);
        up.push({ head: e.head, key: e.key, child: vcn });
        cur = { entries: [] };
        continue;
      }
      cur.entries.push(e);
    }
    cur.endChild = level.endChild;
    const last = newVcn();
    blocks.set(last, cur);
    level = { entries: up, endChild: last };
  }
  return { root: level, blocks };
}

/** Where entries start in an INDX block: after its header and update sequence array. */
export function blockEntriesStart(blockSize: number): number {
  return align8(0x28 + (blockSize / 512 + 1) * 2);
}

/** An INDX block (before fixups) holding node `n` at `vcn`. */
export function blockBytes(vcn: number, n: Node, blockSize: number): Buffer {
  const start = blockEntriesStart(blockSize);
  const b = Buffer.alloc(blockSize);
  b.write('INDX', 0, 'latin1');
  b.writeUInt16LE(0x28, 4);
  b.writeUInt16LE(blockSize / 512 + 1, 6);
  b.writeBigUInt64LE(BigInt(vcn), 16);
  const body = encodeEntries(n);
  b.writeUInt32LE(start - 24, 24);
  b.writeUInt32LE(start - 24 + body.length, 28);
  b.writeUInt32LE(blockSize - 24, 32);
  b[36] = n.endChild !== undefined ? 1 : 0;
  body.copy(b, start);
  return b;
}
