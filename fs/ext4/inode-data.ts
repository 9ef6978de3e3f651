/**
 * The bytes an inode holds: its data (through its file map, or inline in i_block and the
 * system.data xattr) and its extended attributes (in the inode, in an xattr block, or in EA
 * inodes). The two depend on each other: inline data needs the xattrs, an EA inode's value
 * is file data.
 */
import { allSettled } from '../../disk/settle.js';
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
    const buf = Buffer.allocUnsafe(Math.max(0, Math.min(inode.size, offset + length) - offset));
    return buf.subarray(0, await this.readInto(inode, offset, buf));
  }

  /**
   * The file's bytes from `offset` into `buf`, cut at its size; the count. Each device run
   * is read straight into its place, holes are zeroed there: no buffer of our own, no copy.
   */
  async readInto(inode: Inode, offset: number, buf: Buffer): Promise<number> {
    const { io, sb } = this.inodes;
    const end = Math.min(inode.size, offset + buf.length);
    if (end <= offset) return 0;
    if (inode.hasFlag(INODE_FLAG.INLINE_DATA)) return inlineFileData(inode, await this.inlineExtra(inode)).copy(buf, 0, offset, end);
    const bs = sb.blockSize;
    const first = Math.floor(offset / bs);
    const last = Math.ceil(end / bs);
    const map = this.inodes.fileMap(inode);
    const reads: Promise<void>[] = [];
    let pend: Run | null = null;
    /** The part of run `r` inside the request, as offsets into `buf`. */
    const part = (r: Run): Buffer => buf.subarray(Math.max(offset, r.lblk * bs) - offset, Math.min(end, (r.lblk + r.len) * bs) - offset);
    const flush = (r: Run): void => {
      reads.push(io.readInto(r.pblk, Math.max(0, offset - r.lblk * bs), part(r)));
    };
    try {
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
          part(r).fill(0);
          if (pend) flush(pend);
          pend = null;
        }
        lblk += r.len;
      }
      if (pend) flush(pend);
    } catch (e) {
      // Reads already started land in `buf` before we answer, even when a later map failed.
      await Promise.allSettled(reads);
      throw e;
    }
    await allSettled(reads);
    return end - offset;
  }
}
