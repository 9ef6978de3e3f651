/**
 * Changing the directory tree: MFT records are allocated through $MFT's $BITMAP (growing
 * $MFT when it is full), new records get $STANDARD_INFORMATION, $FILE_NAME and $DATA or an
 * empty $INDEX_ROOT, and every directory change rewrites that directory's index with
 * `layoutIndex` (root only, or a balanced tree of INDX blocks from $INDEX_ALLOCATION).
 */
import { FsError } from '../errors.js';
import { AT, type AttrRecord } from './attribute.js';
import { NtfsFile } from './file.js';
import { NAMESPACE, parseFileName } from './filename.js';
import { protectFixups } from './fixup.js';
import { blockBytes, blockEntriesStart, encodeEntries, layoutIndex, nodeSize, type Entry, type Node } from './index-build.js';
import { ENTRY_FLAG, type IndexNode, type IndexTree } from './index.js';
import type { Mft } from './mft.js';
import { parseRecord, RECORD_FLAG, type MftRecord } from './record.js';
import { insertAttribute, nonResidentAttr, replaceAttribute, residentAttr } from './record-edit.js';
import { AttrStream, type VolumeIo } from './stream.js';
import { toNtfsTime } from './time.js';
import { compareKeys, type UpCase } from './upcase.js';
import type { NtfsWriter } from './writer.js';

/** As ntfs-3g: records below 64 stay free for $MFT's own extension records. */
const FIRST_FREE = 64;
/** $MFT grows by this many records' worth of clusters at a time. */
const MFT_GROWTH = 256;
const FILE_ATTR_ARCHIVE = 0x20;
const FILE_NAME_DIR_FLAG = 0x10000000;
const align8 = (n: number): number => (n + 7) & ~7;
const REF_MASK = 0xffffffffffffn;

export function now(): bigint {
  const ms = Date.now();
  return toNtfsTime({ sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1e6 });
}

export function fileRef(num: number, seq: number): bigint {
  return BigInt(num) | (BigInt(seq) << 48n);
}

/** A $FILE_NAME value: the record's copy and the index key are the same bytes. */
export function fileNameValue(parentRef: bigint, name: string, dir: boolean, time: bigint): Buffer {
  const n = Buffer.from(name, 'utf16le');
  const b = Buffer.alloc(66 + n.length);
  b.writeBigUInt64LE(parentRef, 0);
  for (const o of [8, 16, 24, 32]) b.writeBigUInt64LE(time, o);
  b.writeUInt32LE(FILE_ATTR_ARCHIVE | (dir ? FILE_NAME_DIR_FLAG : 0), 56);
  b[64] = name.length;
  b[65] = NAMESPACE.POSIX;
  n.copy(b, 66);
  return b;
}

export class NamespaceWriter {
  constructor(
    private readonly io: VolumeIo,
    private readonly mft: Mft,
    private readonly w: NtfsWriter,
    private readonly upcase: UpCase,
  ) {}

  private get device(): string {
    return this.io.dev.name;
  }

  /** NTFS file-name collation: case-insensitive through $UpCase, then by code unit. */
  compare(a: Buffer, b: Buffer): number {
    const c = compareKeys(this.upcase.keyAt(a, 66, a[64]!), this.upcase.keyAt(b, 66, b[64]!));
    if (c !== 0) return c;
    return compareKeys(new Uint16Array(a.buffer.slice(a.byteOffset + 66, a.byteOffset + 66 + a[64]! * 2)), new Uint16Array(b.buffer.slice(b.byteOffset + 66, b.byteOffset + 66 + b[64]! * 2)));
  }

  /** A free MFT record number and the sequence number it will have. */
  async allocRecord(): Promise<{ num: number; seq: number }> {
    let mftFile = await this.mft.file(0);
    const bmAttr = mftFile.find(AT.BITMAP)!;
    const bits = await new AttrStream(this.io, bmAttr, '$MFT $BITMAP').read(0, bmAttr.dataSize);
    let num = -1;
    for (let n = FIRST_FREE; n < this.mft.recordCount; n++) {
      if ((bits[n >> 3]! & (1 << (n & 7))) === 0) {
        num = n;
        break;
      }
    }
    let seq = 1;
    if (num >= 0) {
      const raw = await this.mft.rawBytes(num);
      if (raw.toString('latin1', 0, 4) === 'FILE') seq = raw.readUInt16LE(16) + 1;
      if (seq > 0xffff) seq = 1;
    } else {
      num = this.mft.recordCount;
      const size = (num + 1) * this.mft.recordSize;
      const have = mftFile.find(AT.DATA)!.allocSize;
      await this.w.truncate(mftFile, AT.DATA, '', size, true, size <= have ? have : size + MFT_GROWTH * this.mft.recordSize);
      await this.mft.refresh();
      mftFile = await this.mft.file(0);
    }
    const byteAt = num >> 3;
    const chunk = Buffer.alloc(8);
    bits.copy(chunk, 0, byteAt & ~7, Math.min(bits.length, (byteAt & ~7) + 8));
    chunk[byteAt & 7]! |= 1 << (num & 7);
    await this.w.write(mftFile, AT.BITMAP, '', byteAt & ~7, chunk);
    return { num, seq };
  }

  async freeRecordBit(num: number): Promise<void> {
    const mftFile = await this.mft.file(0);
    const bmAttr = mftFile.find(AT.BITMAP)!;
    const byte = await new AttrStream(this.io, bmAttr, '$MFT $BITMAP').read(num >> 3, 1);
    await this.w.write(mftFile, AT.BITMAP, '', num >> 3, Buffer.from([byte[0]! & ~(1 << (num & 7))]));
  }

  /** Build and write a new base record holding `attrs` (attribute record bytes, in order). */
  async writeNewRecord(num: number, seq: number, dir: boolean, attrs: Buffer[]): Promise<void> {
    const size = this.mft.recordSize;
    const raw = Buffer.alloc(size);
    const usaCount = size / 512 + 1;
    const usaOfs = 48;
    const first = align8(usaOfs + usaCount * 2);
    raw.write('FILE', 0, 'latin1');
    raw.writeUInt16LE(usaOfs, 4);
    raw.writeUInt16LE(usaCount, 6);
    raw.writeUInt16LE(seq, 16);
    raw.writeUInt16LE(1, 18);
    raw.writeUInt16LE(first, 20);
    raw.writeUInt16LE(RECORD_FLAG.IN_USE | (dir ? RECORD_FLAG.DIRECTORY : 0), 22);
    raw.writeUInt32LE(size, 28);
    raw.writeUInt32LE(num, 44);
    let p = first;
    attrs.forEach((a, id) => {
      a.writeUInt16LE(id, 14);
      a.copy(raw, p);
      p += a.length;
    });
    raw.writeUInt32LE(0xffffffff, p);
    raw.writeUInt32LE(p + 8, 24);
    raw.writeUInt16LE(attrs.length, 40);
    if (p + 8 > size) throw new FsError('ENOSPC', `${this.device}: new MFT record ${num} would need ${p + 8} bytes`);
    await this.w.writeRecord({ number: num, base: 0, raw } as MftRecord);
  }

  /** Standard information for a new file, taking the security id of `parent`. */
  stdInfo(parent: NtfsFile, attributes: number, time: bigint): Buffer {
    const v = Buffer.alloc(72);
    for (const o of [0, 8, 16, 24]) v.writeBigUInt64LE(time, o);
    v.writeUInt32LE(attributes, 32);
    const psi = parent.residentValue(AT.STANDARD_INFORMATION);
    if (psi && psi.length >= 56) v.writeUInt32LE(psi.readUInt32LE(52), 52);
    return residentAttr({ type: AT.STANDARD_INFORMATION, name: '', flags: 0, id: 0 } as never, v);
  }

  /** Create a file or directory `name` in `parent`; returns its record number. */
  async create(parent: NtfsFile, tree: IndexTree, name: string, dir: boolean, systemFile = false): Promise<number> {
    const { num, seq } = await this.allocRecord();
    const time = now();
    const fnValue = fileNameValue(fileRef(parent.num, parent.base.sequence), name, dir, time);
    const fn = residentAttr({ type: AT.FILE_NAME, name: '', flags: 0, id: 0 } as never, fnValue);
    fn[22] = 1; // indexed
    const attrs = [this.stdInfo(parent, FILE_ATTR_ARCHIVE | (systemFile ? 0x4 : 0), time), fn];
    if (dir) {
      const parentRoot = parent.residentValue(AT.INDEX_ROOT, '$I30')!;
      const root = Buffer.alloc(48);
      parentRoot.copy(root, 0, 0, 16);
      root.writeUInt32LE(16, 16);
      root.writeUInt32LE(32, 20);
      root.writeUInt32LE(32, 24);
      root.writeUInt16LE(16, 40);
      root.writeUInt16LE(2, 44);
      attrs.push(residentAttr({ type: AT.INDEX_ROOT, name: '$I30', flags: 0, id: 0 } as never, root));
    } else {
      attrs.push(residentAttr({ type: AT.DATA, name: '', flags: 0, id: 0 } as never, Buffer.alloc(0)));
    }
    await this.writeNewRecord(num, seq, dir, attrs);
    await this.addEntry(parent, tree, { head: refHead(fileRef(num, seq)), key: fnValue });
    return num;
  }

  async addEntry(dir: NtfsFile, tree: IndexTree, e: Entry): Promise<void> {
    if (await this.insertFast(dir, tree, e)) return;
    const entries = await this.entriesOf(tree);
    let i = 0;
    while (i < entries.length && this.compare(entries[i]!.key, e.key) < 0) i++;
    entries.splice(i, 0, e);
    await this.rewriteIndex(dir, tree, entries);
  }

  /** Remove the entries of record `num` named `name` (and its DOS partner) from `dir`. */
  async removeEntry(dir: NtfsFile, tree: IndexTree, num: number, names: Set<string>): Promise<void> {
    if (names.size === 1 && (await this.removeFast(dir, tree, num, [...names][0]!))) return;
    const entries = (await this.entriesOf(tree)).filter((e) => {
      const ref = Number(e.head.readBigUInt64LE(0) & REF_MASK);
      return !(ref === num && names.has(e.key.toString('utf16le', 66, 66 + e.key[64]! * 2)));
    });
    await this.rewriteIndex(dir, tree, entries);
  }

  private async entriesOf(tree: IndexTree): Promise<Entry[]> {
    return (await tree.entries()).map((e) => ({ head: Buffer.from(e.raw.subarray(0, 8)), key: Buffer.from(e.key) }));
  }

  /**
   * Insert into the leaf where `e` belongs; a full leaf splits in two, its middle entry going
   * up. Answers false (nothing written) where that is not enough: the caller rebuilds.
   */
  private async insertFast(dir: NtfsFile, tree: IndexTree, e: Entry): Promise<boolean> {
    const path: { node: IndexNode; pos: number }[] = [];
    for (let node = tree.root, depth = 0; ; depth++) {
      const pos = node.entries.findIndex((x) => (x.flags & ENTRY_FLAG.LAST) !== 0 || this.compare(e.key, x.key) < 0);
      if (pos < 0 || depth > 32) return false;
      path.push({ node, pos });
      const child = node.entries[pos]!.child;
      if (child === undefined) break;
      node = await tree.node(child);
    }
    const leaf = path[path.length - 1]!;
    const leafNode = editable(leaf.node);
    leafNode.entries.splice(leaf.pos, 0, e);
    const cap = tree.blockSize - blockEntriesStart(tree.blockSize);
    if (leaf.node.vcn < 0) {
      if (!this.rootFits(dir, leafNode)) return false;
      await this.writeRoot(dir, leafNode);
      return true;
    }
    if (nodeSize(leafNode) <= cap) {
      await this.writeBlock(dir, tree, leaf.node.vcn, leafNode);
      return true;
    }
    const parent = path[path.length - 2];
    const m = leafNode.entries.length >> 1;
    const median = leafNode.entries[m]!;
    const left: Node = { entries: leafNode.entries.slice(0, m) };
    const right: Node = { entries: leafNode.entries.slice(m + 1) };
    if (!parent || left.entries.length === 0 || right.entries.length === 0) return false;
    const parentNode = editable(parent.node);
    const up: Entry = { head: median.head, key: median.key, child: 0 };
    parentNode.entries.splice(parent.pos, 0, up);
    if (parent.node.vcn < 0 ? !this.rootFits(dir, parentNode) : nodeSize(parentNode) > cap) return false;
    up.child = await this.newBlock(dir, tree);
    await this.writeBlock(dir, tree, up.child, left);
    await this.writeBlock(dir, tree, leaf.node.vcn, right);
    if (parent.node.vcn < 0) await this.writeRoot(dir, parentNode);
    else await this.writeBlock(dir, tree, parent.node.vcn, parentNode);
    return true;
  }

  /** Remove a leaf entry in place when its node keeps at least one entry; false otherwise. */
  private async removeFast(dir: NtfsFile, tree: IndexTree, num: number, name: string): Promise<boolean> {
    const probe = fileNameValue(0n, name, false, 0n);
    const hits = await tree.findIn((k) => this.compare(probe, k));
    const hit = hits.find((h) => Number(h.entry.raw.readBigUInt64LE(0) & REF_MASK) === num && this.compare(probe, h.entry.key) === 0);
    if (!hit || hit.entry.child !== undefined) return false;
    const node = editable(hit.node);
    const i = hit.node.entries.indexOf(hit.entry);
    node.entries.splice(i, 1);
    if (hit.node.vcn < 0) {
      await this.writeRoot(dir, node);
      return true;
    }
    if (node.entries.length === 0) return false;
    await this.writeBlock(dir, tree, hit.node.vcn, node);
    return true;
  }

  private rootAttrOf(dir: NtfsFile): { rec: MftRecord; attr: AttrRecord } {
    const attr = dir.all(AT.INDEX_ROOT).find((a) => a.name === '$I30')!;
    return { attr, rec: dir.records.find((r) => r.number === attr.record)! };
  }

  private rootFits(dir: NtfsFile, n: Node): boolean {
    const { rec, attr } = this.rootAttrOf(dir);
    const bytes = residentAttr(attr, Buffer.alloc(32 + nodeSize(n)));
    return rec.raw.readUInt32LE(24) - rec.raw.readUInt32LE(attr.offset + 4) + bytes.length <= rec.raw.length;
  }

  private async writeRoot(dirIn: NtfsFile, n: Node): Promise<void> {
    const dir = await this.mft.file(dirIn.num);
    const { rec, attr } = this.rootAttrOf(dir);
    replaceAttribute(rec, attr, residentAttr(attr, this.rootValue(attr.value!, n)), this.device);
    this.w.touch(dir);
    await this.w.writeRecord(rec);
    if (rec !== dir.base) await this.w.writeRecord(dir.base);
  }

  private async writeBlock(dirIn: NtfsFile, tree: IndexTree, vcn: number, n: Node): Promise<void> {
    const dir = await this.mft.file(dirIn.num);
    const stream = new AttrStream(this.io, dir.find(AT.INDEX_ALLOCATION, '$I30')!, `MFT record ${dir.num} $INDEX_ALLOCATION`);
    const vcnSize = tree.blockSize < this.io.clusterSize ? 512 : this.io.clusterSize;
    await this.w.writeStream(stream, vcn * vcnSize, protectFixups(blockBytes(vcn, n, tree.blockSize)));
  }

  /** A free index block (marked in use in the $I30 $BITMAP, allocated if need be); its VCN. */
  private async newBlock(dirIn: NtfsFile, tree: IndexTree): Promise<number> {
    let dir = await this.mft.file(dirIn.num);
    const bs = tree.blockSize;
    const count = Math.floor(dir.find(AT.INDEX_ALLOCATION, '$I30')!.dataSize / bs);
    const bm = dir.find(AT.BITMAP, '$I30')!;
    const bits = await new AttrStream(this.io, bm, `MFT record ${dir.num} $BITMAP`).read(0, bm.dataSize);
    let idx = 0;
    while (idx < count && (bits[idx >> 3]! & (1 << (idx & 7))) !== 0) idx++;
    if (idx === count) {
      await this.w.truncate(dir, AT.INDEX_ALLOCATION, '$I30', (count + 1) * bs, true);
      dir = await this.mft.file(dir.num);
    }
    const next = Buffer.alloc(Math.max(bits.length, align8((idx >> 3) + 1)));
    bits.copy(next);
    next[idx >> 3]! |= 1 << (idx & 7);
    await this.w.write(dir, AT.BITMAP, '$I30', 0, next);
    return (idx * bs) / (bs < this.io.clusterSize ? 512 : this.io.clusterSize);
  }

  /** Rewrite directory `dir`'s $I30 index to hold exactly `entries` (sorted). */
  async rewriteIndex(dirIn: NtfsFile, tree: IndexTree, entries: Entry[]): Promise<void> {
    let dir = dirIn;
    const blockSize = tree.blockSize;
    const fits = (n: Node): boolean => this.rootFits(dir, n);
    if (!fits({ entries }) && !dir.has(AT.INDEX_ALLOCATION, '$I30')) {
      // Going from a small to a large index: empty the root (its entries are in `entries`)
      // to make room, then add empty $INDEX_ALLOCATION and $BITMAP.
      const { rec, attr } = this.rootAttrOf(dir);
      replaceAttribute(rec, attr, residentAttr(attr, this.rootValue(attr.value!, { entries: [] })), this.device);
      dir = await this.reparse(dir, rec);
      insertAttribute(dir.base, nonResidentAttr({ type: AT.INDEX_ALLOCATION, name: '$I30', flags: 0, id: 0 } as never, { runs: [], allocSize: 0, dataSize: 0, initSize: 0 }, this.io.clusterSize), this.device);
      dir = await this.reparse(dir, dir.base);
      insertAttribute(dir.base, residentAttr({ type: AT.BITMAP, name: '$I30', flags: 0, id: 0 } as never, Buffer.alloc(8)), this.device);
      dir = await this.reparse(dir, dir.base);
      await this.w.writeRecord(dir.base);
      dir = await this.mft.file(dir.num);
    }
    const alloc = dir.find(AT.INDEX_ALLOCATION, '$I30');
    const vcnSize = blockSize < this.io.clusterSize ? 512 : this.io.clusterSize;
    let blockCount = alloc ? Math.floor(alloc.dataSize / blockSize) : 0;
    // Reuse blocks in order, then append new ones.
    let used = 0;
    const newVcn = (): number => (used++ * blockSize) / vcnSize;
    const layout = layoutIndex(entries, fits, blockSize - blockEntriesStart(blockSize), newVcn);
    if (used > blockCount) {
      await this.w.truncate(dir, AT.INDEX_ALLOCATION, '$I30', used * blockSize, true);
      dir = await this.mft.file(dir.num);
      blockCount = used;
    }
    if (dir.has(AT.BITMAP, '$I30')) {
      const bm = dir.find(AT.BITMAP, '$I30')!;
      const bits = Buffer.alloc(Math.max(bm.dataSize, align8(Math.ceil(blockCount / 8))));
      for (let b = 0; b < used; b++) bits[b >> 3]! |= 1 << (b & 7);
      await this.w.write(dir, AT.BITMAP, '$I30', 0, bits);
      dir = await this.mft.file(dir.num);
    }
    for (const [vcn, node] of layout.blocks) await this.writeBlock(dir, tree, vcn, node);
    await this.writeRoot(dir, layout.root);
  }


  /** An $INDEX_ROOT value: the 16-byte head (type, collation, block size), header, entries. */
  private rootValue(head: Buffer, root: Node): Buffer {
    const body = encodeEntries(root);
    const value = Buffer.alloc(32 + body.length);
    head.copy(value, 0, 0, 16);
    value.writeUInt32LE(16, 16);
    value.writeUInt32LE(16 + body.length, 20);
    value.writeUInt32LE(16 + body.length, 24);
    value[28] = root.endChild !== undefined ? 1 : 0;
    body.copy(value, 32);
    return value;
  }

  /** Re-read a record's attributes after editing its bytes in place. */
  private async reparse(f: NtfsFile, r: MftRecord): Promise<NtfsFile> {
    const again = parseRecord(protectFixups(r.raw), r.number, { device: this.device, totalClusters: this.io.totalClusters, at: r.at });
    const records = f.records.map((x) => (x.number === r.number ? again : x));
    return new NtfsFile(f.device, records[0]!, records);
  }

  /**
   * Drop the $FILE_NAMEs (parent, one of `names`) from the file's record, the first replaced
   * by `replacement` when given (a rename); free the file when no name is left.
   */
  async dropName(f: NtfsFile, parent: number, names: Set<string>, replacement?: Buffer): Promise<void> {
    const drop = f.all(AT.FILE_NAME).filter((a) => {
      const fn = parseFileName(a.value!, this.device, `MFT record ${f.num}`);
      return fn.parent === parent && names.has(fn.name);
    });
    const left = f.all(AT.FILE_NAME).length - drop.length + (replacement ? 1 : 0);
    if (left === 0) {
      await this.freeFile(f);
      return;
    }
    let file = f;
    for (const [i, a] of drop.entries()) {
      const cur = file.all(AT.FILE_NAME).find((x) => x.value!.equals(a.value!))!;
      const r = file.records.find((x) => x.number === cur.record)!;
      let bytes: Buffer = Buffer.alloc(0);
      if (i === 0 && replacement) {
        bytes = residentAttr(cur, replacement);
        bytes[22] = 1;
      }
      replaceAttribute(r, cur, bytes, this.device);
      file = await this.reparse(file, r);
    }
    file.base.raw.writeUInt16LE(left, 18);
    this.w.touch(file);
    for (const r of file.records) await this.w.writeRecord(r);
  }

  /** Give `f` another name: a $FILE_NAME attribute and a link count one higher. */
  async addName(f: NtfsFile, fnValue: Buffer): Promise<void> {
    const fn = residentAttr({ type: AT.FILE_NAME, name: '', flags: 0, id: 0 } as never, fnValue);
    fn[22] = 1;
    insertAttribute(f.base, fn, this.device);
    f.base.raw.writeUInt16LE(f.base.raw.readUInt16LE(18) + 1, 18);
    this.w.touch(f);
    await this.w.writeRecord(f.base);
  }

  /** Free the clusters and MFT records of a file. */
  async freeFile(f: NtfsFile): Promise<void> {
    await this.w.freeClusters(f.records.flatMap((r) => r.attrs.flatMap((a) => a.runs)));
    for (const r of f.records) {
      r.raw.writeUInt16LE(r.raw.readUInt16LE(22) & ~RECORD_FLAG.IN_USE, 22);
      let seq = (r.raw.readUInt16LE(16) + 1) & 0xffff;
      if (seq === 0) seq = 1;
      r.raw.writeUInt16LE(seq, 16);
      await this.w.writeRecord(r);
      await this.freeRecordBit(r.number);
    }
  }
}

/** An index node's entries as editable copies (the end entry becomes `endChild`). */
function editable(n: IndexNode): Node {
  const last = n.entries[n.entries.length - 1]!;
  return {
    entries: n.entries.filter((x) => (x.flags & ENTRY_FLAG.LAST) === 0).map((x) => ({ head: Buffer.from(x.raw.subarray(0, 8)), key: Buffer.from(x.key), child: x.child })),
    endChild: last.child,
  };
}

function refHead(ref: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(ref & 0xffffffffffffffffn);
  return b;
}
