/**
 * The bytes an inode holds: its data (through its file map, or inline in i_block and the
 * system.data xattr) and its extended attributes (in the inode, in an xattr block, or in EA
 * inodes). The two depend on each other: inline data needs the xattrs, an EA inode's value
 * is file data.
 */
import { corrupt } from '../errors.js';
import { xattrBlockCsum } from './checksums.js';
import { INODE_FLAG } from './constants.js';
import type { Run } from './file-map.js';
import { inlineFileData } from './inline.js';
import { GOOD_OLD_INODE_SIZE, type Inode } from './inode.js';
import type { InodeTable } from './inode-table.js';
import { fullName, INDEX_SYSTEM, parseEntries, XATTR_BLOCK_HEADER, XATTR_MAGIC, type Xattr } from './xattr.js';

/** The system.data xattr: the part of inline data past i_block. */
export const XATTR_DATA = 'data';

export class InodeData {
  constructor(private readonly inodes: InodeTable) {}

  private get dev(): string {
    return this.inodes.io.name;
  }

  /** In-inode then block xattrs, as stored (ACLs in ext4's own format). */
  async xattrs(inode: Inode): Promise<Xattr[]> {
    const sb = this.inodes.sb;
    const out: Xattr[] = [];
    const ibody = GOOD_OLD_INODE_SIZE + inode.extraIsize;
    if (sb.inodeSize > GOOD_OLD_INODE_SIZE && ibody + 4 <= sb.inodeSize && inode.raw.readUInt32LE(ibody) === XATTR_MAGIC) {
      out.push(...parseEntries(inode.raw.subarray(ibody), 4, 4, this.dev, `inode ${inode.ino} in-inode xattrs`));
    }
    const acl = inode.fileAcl;
    if (acl) {
      const block = await this.xattrBlock(acl, inode.ino);
      out.push(...parseEntries(block, XATTR_BLOCK_HEADER, 0, this.dev, `inode ${inode.ino} xattr block ${acl}`));
    }
    for (const x of out) {
      if (x.valueInum === undefined) continue;
      // ea_inode: the value is the data of an inode flagged EA_INODE.
      const ea = await this.inodes.live(x.valueInum);
      if (!ea.hasFlag(INODE_FLAG.EA_INODE) || ea.size !== x.valueSize) {
        throw corrupt(this.dev, `inode ${inode.ino} xattr ${fullName(x)}`, `value inode ${x.valueInum} is not its EA inode (flags 0x${ea.flags.toString(16)}, size ${ea.size} for ${x.valueSize})`);
      }
      x.value = await this.read(ea, 0, ea.size);
    }
    return out;
  }

  /** An xattr block, its header and checksum checked. */
  async xattrBlock(block: number, ino: number): Promise<Buffer> {
    const { io, sb } = this.inodes;
    const what = `inode ${ino} xattr block ${block}`;
    io.checkBlock(block, 1, what);
    const buf = await io.block(block, what);
    const at = BigInt(block) * BigInt(sb.blockSize);
    if (buf.readUInt32LE(0) !== XATTR_MAGIC || buf.readUInt32LE(8) !== 1) throw corrupt(this.dev, what, 'bad xattr block header', at);
    if (sb.metadataCsum && xattrBlockCsum(sb.csumSeed, block, buf) !== buf.readUInt32LE(0x10)) throw corrupt(this.dev, what, 'checksum mismatch', at);
    return buf;
  }

  /** The system.data value of an inline inode. */
  async inlineExtra(inode: Inode): Promise<Buffer | undefined> {
    return (await this.xattrs(inode)).find((x) => x.index === INDEX_SYSTEM && x.name === XATTR_DATA)?.value;
  }

  /** Bytes [offset, offset+length) of a file, cut at its size; holes read as zeros. */
  async read(inode: Inode, offset: number, length: number): Promise<Buffer> {
    const { io, sb } = this.inodes;
    const end = Math.min(inode.size, offset + length);
    if (end <= offset) return Buffer.alloc(0);
    if (inode.hasFlag(INODE_FLAG.INLINE_DATA)) return Buffer.from(inlineFileData(inode, await this.inlineExtra(inode)).subarray(offset, end));
    const bs = sb.blockSize;
    const first = Math.floor(offset / bs);
    const last = Math.ceil(end / bs);
    const map = this.inodes.fileMap(inode);
    const reads: Promise<void>[] = [];
    let pend: Run | null = null;
    let outBuf: Buffer | undefined;
    // Not zero-filled: every byte is copied from a run or zeroed as a hole below.
    const output = (): Buffer => (outBuf ??= Buffer.allocUnsafe(end - offset));
    const overlap = (r: Run): [from: number, to: number] => [Math.max(offset, r.lblk * bs), Math.min(end, (r.lblk + r.len) * bs)];
    const flush = (r: Run): void => {
      reads.push(io.readBlocks(r.pblk, r.len).then((buf) => {
        const [from, to] = overlap(r);
        buf.copy(output(), from - offset, from - r.lblk * bs, to - r.lblk * bs);
      }));
    };
    for (let lblk = first; lblk < last;) {
      const r = await map.map(lblk, last - lblk);
      if (r.pblk && !r.unwritten) {
        io.checkBlock(r.pblk, r.len, `inode ${inode.ino} data`);
        if (pend && pend.pblk + pend.len === r.pblk) pend.len += r.len;
        else {
          if (pend) flush(pend);
          pend = { ...r };
        }
      } else {
        const [from, to] = overlap(r);
        output().fill(0, from - offset, to - offset);
        if (pend) flush(pend);
        pend = null;
      }
      lblk += r.len;
    }
    if (pend && reads.length === 0 && pend.lblk <= first && pend.lblk + pend.len >= last) {
      // One device run covers the whole request: hand back its buffer without a copy.
      const buf = await io.readBlocks(pend.pblk, pend.len);
      const skip = offset - pend.lblk * bs;
      return buf.subarray(skip, skip + (end - offset));
    }
    if (pend) flush(pend);
    await Promise.all(reads);
    return output();
  }
}
