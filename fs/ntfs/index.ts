/**
 * Index B+ trees ($I30 directories, $Secure's $SII): a resident $INDEX_ROOT node, child nodes
 * as "INDX" records in $INDEX_ALLOCATION, and a $BITMAP of which of those are in use.
 */
import { Lru } from '../../disk/lru.js';
import { corrupt } from '../errors.js';
import { AT } from './attribute.js';
import type { NtfsFile } from './file.js';
import { applyFixups, protectFixups } from './fixup.js';
import { AttrStream, type VolumeIo } from './stream.js';

export const ENTRY_FLAG = { SUBNODE: 1, LAST: 2 } as const;

export interface IndexEntry {
  /** The whole entry (its first 8 bytes: file reference, or data offset/length). */
  raw: Buffer;
  key: Buffer;
  flags: number;
  /** VCN of the child node holding the keys before this one. */
  child?: number;
  /** Byte position of the entry on the device (for messages). */
  at: bigint;
}

export interface IndexNode {
  entries: IndexEntry[];
  /** VCN, or -1 for the root. */
  vcn: number;
  /** The node's fixed-up bytes (entries' `raw` point into them). */
  buf: Buffer;
}

const MAX_DEPTH = 32;
const MAX_CACHED_NODES = 4096;

export class IndexTree {
  private constructor(
    private readonly io: VolumeIo,
    readonly file: NtfsFile,
    readonly what: string,
    readonly root: IndexNode,
    readonly blockSize: number,
    private readonly vcnSize: number,
    private readonly alloc?: AttrStream,
    private readonly bitmap?: Buffer,
  ) {}

  static async open(io: VolumeIo, file: NtfsFile, name: string): Promise<IndexTree> {
    const what = `MFT record ${file.num} index ${name}`;
    const dev = io.dev.name;
    const rootVal = file.residentValue(AT.INDEX_ROOT, name);
    if (!rootVal) throw corrupt(dev, what, 'no $INDEX_ROOT', file.base.at);
    if (rootVal.length < 32) throw corrupt(dev, what, `$INDEX_ROOT of ${rootVal.length} bytes is too short`, file.base.at);
    const blockSize = rootVal.readUInt32LE(8);
    if (blockSize < 256 || blockSize > 65536 || (blockSize & (blockSize - 1)) !== 0) throw corrupt(dev, what, `bad index block size ${blockSize}`, file.base.at);
    const vcnSize = blockSize < io.clusterSize ? 512 : io.clusterSize;
    // The root's value lies inside the base record's bytes: its device position follows.
    const rootAt = rootVal.buffer === file.base.raw.buffer ? file.base.at + BigInt(rootVal.byteOffset - file.base.raw.byteOffset) : file.base.at;
    const root: IndexNode = { vcn: -1, buf: rootVal, entries: parseEntries(rootVal, 16, dev, `${what} root`, rootAt) };
    const allocAttr = file.find(AT.INDEX_ALLOCATION, name);
    let alloc: AttrStream | undefined;
    let bitmap: Buffer | undefined;
    if (allocAttr) {
      if (allocAttr.resident) throw corrupt(dev, what, '$INDEX_ALLOCATION is resident', file.base.at);
      alloc = new AttrStream(io, allocAttr, `${what} $INDEX_ALLOCATION`);
      const bm = file.find(AT.BITMAP, name);
      if (bm) {
        if (bm.dataSize > (allocAttr.dataSize / blockSize + 64) / 8 + 8) throw corrupt(dev, what, `$BITMAP of ${bm.dataSize} bytes is too large`, file.base.at);
        bitmap = await new AttrStream(io, bm, `${what} $BITMAP`).read(0, bm.dataSize);
      }
    }
    return new IndexTree(io, file, what, root, blockSize, vcnSize, alloc, bitmap);
  }

  private nodes = new Lru<number, Promise<IndexNode>>(MAX_CACHED_NODES);

  /** Child node at `vcn`, parsed once and kept (the tree is dropped when its directory changes). */
  node(vcn: number): Promise<IndexNode> {
    return this.nodes.load(vcn, 1, () => this.readNode(vcn));
  }

  private async readNode(vcn: number): Promise<IndexNode> {
    const dev = this.io.dev.name;
    const what = `${this.what} node at VCN ${vcn}`;
    if (!this.alloc) throw corrupt(dev, what, 'entry points to a child node but there is no $INDEX_ALLOCATION', this.file.base.at);
    const pos = vcn * this.vcnSize;
    if (!Number.isSafeInteger(pos) || pos < 0 || pos + this.blockSize > this.alloc.size) throw corrupt(dev, what, `lies outside $INDEX_ALLOCATION of ${this.alloc.size} bytes`, this.file.base.at);
    const bit = pos / this.blockSize;
    if (this.bitmap && ((this.bitmap[bit >> 3] ?? 0) & (1 << (bit & 7))) === 0) throw corrupt(dev, what, 'is not marked in use in the index $BITMAP', this.file.base.at);
    const at = this.alloc.deviceOffset(pos) ?? 0n;
    const b = await this.alloc.read(pos, this.blockSize);
    if (b.toString('latin1', 0, 4) !== 'INDX') throw corrupt(dev, what, `bad magic ${JSON.stringify(b.toString('latin1', 0, 4))}`, at);
    applyFixups(b, dev, what, at);
    const own = Number(b.readBigUInt64LE(16));
    if (own !== vcn) throw corrupt(dev, what, `record says it is VCN ${own}`, at);
    return { vcn, buf: b, entries: parseEntries(b, 24, dev, what, at) };
  }

  /** Write back block `node` after its entries were patched in place (same sizes). */
  async writeBlock(node: IndexNode, write: (stream: AttrStream, pos: number, data: Buffer) => Promise<void>): Promise<void> {
    await write(this.alloc!, node.vcn * this.vcnSize, protectFixups(node.buf));
  }

  /** Every entry with a key, in index order. */
  async entries(): Promise<IndexEntry[]> {
    const seen = new Set<number>();
    const out: IndexEntry[] = [];
    const walk = async (node: IndexNode, depth: number): Promise<void> => {
      for (const e of node.entries) {
        if (e.child !== undefined) {
          if (depth >= MAX_DEPTH) throw corrupt(this.io.dev.name, this.what, `deeper than ${MAX_DEPTH} levels`);
          if (seen.has(e.child)) throw corrupt(this.io.dev.name, this.what, `node at VCN ${e.child} is referenced twice (a loop)`);
          seen.add(e.child);
          await walk(await this.node(e.child), depth + 1);
        }
        if ((e.flags & ENTRY_FLAG.LAST) === 0) out.push(e);
      }
    };
    await walk(this.root, 0);
    return out;
  }

  /**
   * Entries whose key `cmp` finds equal (cmp < 0: the wanted key sorts before this entry),
   * descending only where they can be. Stops at the first entry `exact` accepts.
   */
  async find(cmp: (key: Buffer) => number, exact?: (e: IndexEntry) => boolean): Promise<IndexEntry[]> {
    return (await this.findIn(cmp, exact)).map((h) => h.entry);
  }

  /** As `find`, with the node holding each entry. */
  async findIn(cmp: (key: Buffer) => number, exact?: (e: IndexEntry) => boolean): Promise<{ entry: IndexEntry; node: IndexNode }[]> {
    const found: { entry: IndexEntry; node: IndexNode }[] = [];
    const seen = new Set<number>();
    const walk = async (node: IndexNode, depth: number): Promise<boolean> => {
      for (const e of node.entries) {
        const c = (e.flags & ENTRY_FLAG.LAST) !== 0 ? -1 : cmp(e.key);
        if (c <= 0 && e.child !== undefined) {
          if (depth >= MAX_DEPTH || seen.has(e.child)) throw corrupt(this.io.dev.name, this.what, `loop or depth over ${MAX_DEPTH} at VCN ${e.child}`);
          seen.add(e.child);
          if (await walk(await this.node(e.child), depth + 1)) return true;
        }
        if (c < 0) return false;
        if (c === 0) {
          found.push({ entry: e, node });
          if (exact?.(e)) return true;
        }
      }
      return false;
    };
    await walk(this.root, 0);
    return found;
  }
}

/** Entries of the node whose index header is at `hdr` of `b`. */
export function parseEntries(b: Buffer, hdr: number, dev: string, what: string, at: bigint): IndexEntry[] {
  if (hdr + 16 > b.length) throw corrupt(dev, what, 'index header cut off', at);
  const first = hdr + b.readUInt32LE(hdr);
  const end = hdr + b.readUInt32LE(hdr + 4);
  const allocated = hdr + b.readUInt32LE(hdr + 8);
  if (first < hdr + 16 || end > allocated || allocated > b.length || first > end) {
    throw corrupt(dev, what, `bad index header (entries ${first - hdr}..${end - hdr}, allocated ${allocated - hdr}, node ${b.length - hdr})`, at + BigInt(hdr));
  }
  const out: IndexEntry[] = [];
  let pos = first;
  for (;;) {
    if (pos + 16 > end) throw corrupt(dev, what, 'entries end without a last entry', at + BigInt(pos));
    const len = b.readUInt16LE(pos + 8);
    const keyLen = b.readUInt16LE(pos + 10);
    const flags = b.readUInt16LE(pos + 12);
    const sub = (flags & ENTRY_FLAG.SUBNODE) !== 0;
    if (len < (sub ? 24 : 16) || (len & 7) !== 0 || pos + len > end || 16 + keyLen > len - (sub ? 8 : 0)) {
      throw corrupt(dev, what, `bad index entry (length ${len}, key length ${keyLen})`, at + BigInt(pos));
    }
    const e: IndexEntry = { raw: b.subarray(pos, pos + len), key: b.subarray(pos + 16, pos + 16 + keyLen), flags, at: at + BigInt(pos) };
    if (sub) e.child = Number(b.readBigUInt64LE(pos + len - 8));
    out.push(e);
    if ((flags & ENTRY_FLAG.LAST) !== 0) return out;
    pos += len;
  }
}
