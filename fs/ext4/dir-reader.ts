/**
 * Reading directories: their blocks (checksum tails checked once per cached buffer), inline
 * directories, lookups through the htree index (a damaged index falls back to a linear
 * scan) and every entry in order.
 */
import { corrupt, FsError } from '../errors.js';
import { COMPAT, INCOMPAT, INODE_FLAG, S_IFDIR } from './constants.js';
import { dirBlockCsum } from './checksums.js';
import { DIR_TAIL_SIZE, findDirent, hasDirTail, parseDirents, type RawDirent } from './dirent.js';
import { dxLeaves, nameHash, nullIfDamaged, type DxNode } from './htree.js';
import { inlineDirRegions } from './inline.js';
import { I, type Inode } from './inode.js';
import type { InodeData } from './inode-data.js';
import type { InodeTable } from './inode-table.js';

/** Directories larger than this (far past any real one) are refused. */
const MAX_DIR_BYTES = 4 * 2 ** 30;
/** Blocks read at once when scanning a directory. */
const DIR_CHUNK_BLOCKS = 64;

/** One region of directory entries: a block (with its logical number) or an inline area. */
export interface DirRegion {
  buf: Buffer;
  /** Logical block, or -1 for inline regions. */
  lblk: number;
  /** Byte offset on the device, for error messages. */
  at?: bigint;
}

export class DirReader {
  /** Directory block buffers (from the block cache) whose checksum was verified. */
  private verified = new WeakSet<Buffer>();
  /** Parsed htree nodes, per block buffer. */
  private dxNodes = new WeakMap<Buffer, DxNode | null>();

  constructor(
    private readonly inodes: InodeTable,
    private readonly data: InodeData,
  ) {}

  private get dev(): string {
    return this.inodes.io.name;
  }

  /** Cached blocks changed in place: what was verified or parsed may be stale. */
  changed(): void {
    this.verified = new WeakSet();
    this.dxNodes = new WeakMap();
  }

  async dirInode(ino: number): Promise<Inode> {
    const inode = await this.inodes.live(ino);
    if (inode.type !== S_IFDIR) throw new FsError('ENOTDIR', `${this.dev}: inode ${ino} is not a directory`);
    return inode;
  }

  /** Number of blocks of a (non-inline) directory, checked. */
  blockCount(inode: Inode): number {
    const bs = this.inodes.sb.blockSize;
    if (inode.size % bs !== 0) throw corrupt(this.dev, `directory inode ${inode.ino}`, `i_size ${inode.size} is not a multiple of the block size`);
    if (inode.size > MAX_DIR_BYTES) throw corrupt(this.dev, `directory inode ${inode.ino}`, `i_size ${inode.size} is larger than ${MAX_DIR_BYTES}, the most this driver reads`, this.inodes.byteOf(inode.ino) + BigInt(I.sizeLo));
    return inode.size / bs;
  }

  /** Check a directory block's checksum tail (metadata_csum); htree nodes carry none here. */
  private checkBlock(inode: Inode, buf: Buffer, at: bigint): void {
    const sb = this.inodes.sb;
    if (!sb.metadataCsum || !hasDirTail(buf) || this.verified.has(buf)) return;
    if (dirBlockCsum(sb.csumSeed, inode, buf) !== buf.readUInt32LE(buf.length - 4)) {
      throw corrupt(this.dev, `directory inode ${inode.ino} block`, 'checksum mismatch', at);
    }
    this.verified.add(buf);
  }

  /** The entries area of a directory block: without the checksum tail. */
  private entryArea(buf: Buffer): Buffer {
    return this.inodes.sb.metadataCsum && hasDirTail(buf) ? buf.subarray(0, buf.length - DIR_TAIL_SIZE) : buf;
  }

  /** Every entry slot of a block, unused ones included, in order. */
  blockEntries(dir: Inode, buf: Buffer, lblk: number): RawDirent[] {
    return parseDirents(this.entryArea(buf), this.inodes.sb.has(INCOMPAT.FILETYPE), this.dev, `directory inode ${dir.ino} block ${lblk}`);
  }

  /** One logical block of a directory, or null for a hole. */
  private async block(inode: Inode, lblk: number): Promise<{ buf: Buffer; at: bigint } | null> {
    const r = await this.inodes.fileMap(inode).map(lblk, 1);
    if (!r.pblk) return null;
    const buf = await this.inodes.io.block(r.pblk, `directory inode ${inode.ino} block ${lblk}`);
    const at = BigInt(r.pblk) * BigInt(this.inodes.sb.blockSize);
    return { buf, at };
  }

  /** Every entry region of a directory, in order, read in large chunks. */
  async *regions(inode: Inode): AsyncGenerator<DirRegion> {
    if (inode.hasFlag(INODE_FLAG.INLINE_DATA)) {
      for (const buf of inlineDirRegions(inode, await this.data.inlineExtra(inode)).regions) yield { buf, lblk: -1 };
      return;
    }
    const { io, sb } = this.inodes;
    const bs = sb.blockSize;
    const n = this.blockCount(inode);
    const map = this.inodes.fileMap(inode);
    for (let lblk = 0; lblk < n;) {
      // Holes are skipped whole; mapped runs are read in bounded chunks.
      const r = await map.map(lblk, n - lblk);
      if (r.pblk && !r.unwritten) {
        io.checkBlock(r.pblk, r.len, `directory inode ${inode.ino}`);
        for (let done = 0; done < r.len; done += DIR_CHUNK_BLOCKS) {
          const count = Math.min(DIR_CHUNK_BLOCKS, r.len - done);
          // A lone block (most directories are one) comes from the cache, where its
          // checksum is checked once however often lookups pass through it.
          const chunk = count === 1 ? await io.block(r.pblk + done, `directory inode ${inode.ino}`) : await io.readBlocks(r.pblk + done, count);
          for (let i = 0; i < count; i++) {
            yield { buf: chunk.subarray(i * bs, (i + 1) * bs), lblk: lblk + done + i, at: BigInt(r.pblk + done + i) * BigInt(bs) };
          }
        }
      }
      lblk += r.len;
    }
  }

  /** The entries area of a region, its checksum checked, and where it is for messages. */
  private regionArea(inode: Inode, reg: DirRegion): { area: Buffer; where: string } {
    if (reg.at !== undefined) this.checkBlock(inode, reg.buf, reg.at);
    if (reg.lblk < 0) return { area: reg.buf, where: `directory inode ${inode.ino} inline data` };
    return { area: this.entryArea(reg.buf), where: `directory inode ${inode.ino} block ${reg.lblk}` };
  }

  /** Live entries of a region (no unused slots, no checksum tail), with "." and "..". */
  regionEntries(inode: Inode, reg: DirRegion): RawDirent[] {
    const { area, where } = this.regionArea(inode, reg);
    return parseDirents(area, this.inodes.sb.has(INCOMPAT.FILETYPE), this.dev, where, reg.at).filter((e) => e.ino !== 0);
  }

  /** The inode number an entry names, or null. */
  async lookupIno(parent: number, name: string): Promise<number | null> {
    const dir = await this.dirInode(parent);
    const want = Buffer.from(name, 'utf8');
    if (want.length > 255) throw new FsError('ENAMETOOLONG', `${name}: name longer than 255 bytes`);
    if (name === '.') return parent;
    if (name === '..' && dir.hasFlag(INODE_FLAG.INLINE_DATA)) return dir.iBlock.readUInt32LE(0);
    if (dir.hasFlag(INODE_FLAG.INDEX) && this.inodes.sb.hasCompat(COMPAT.DIR_INDEX) && !dir.hasFlag(INODE_FLAG.INLINE_DATA)) {
      const hit = await this.htreeLookup(dir, want).catch(nullIfDamaged);
      if (hit !== null) return hit.ino;
      // The index was damaged: fall back to a linear scan.
    }
    for await (const reg of this.regions(dir)) {
      const { area, where } = this.regionArea(dir, reg);
      const ino = findDirent(area, want, this.inodes.sb.has(INCOMPAT.FILETYPE), this.dev, where, reg.at);
      if (ino !== null) return ino;
    }
    return null;
  }

  /** htree lookup; null (so the caller scans linearly) when the index is damaged. */
  async htreeLookup(dir: Inode, want: Buffer): Promise<{ ino: number | null } | null> {
    const sb = this.inodes.sb;
    const nBlocks = this.blockCount(dir);
    const root = await this.block(dir, 0);
    if (!root) return null;
    const readBlock = async (lblk: number): Promise<Buffer> => {
      const b = await this.block(dir, lblk);
      if (!b) throw corrupt(this.dev, `directory inode ${dir.ino}`, `htree points at hole ${lblk}`);
      return b.buf;
    };
    const found = await dxLeaves(root.buf, sb.metadataCsum, sb.has(INCOMPAT.LARGEDIR) ? 3 : 2, nBlocks,
      (info) => nameHash(info, sb.unsignedHash, sb.hashSeed, want), readBlock, this.dxNodes);
    if (!found) return null;
    for (const lblk of found.leaves) {
      const b = await this.block(dir, lblk);
      if (!b) return null;
      this.checkBlock(dir, b.buf, b.at);
      const hit = findDirent(this.entryArea(b.buf), want, sb.has(INCOMPAT.FILETYPE), this.dev, `directory inode ${dir.ino} block ${lblk}`, b.at);
      if (hit !== null) return { ino: hit };
    }
    return { ino: null };
  }

  /** True when a directory holds nothing but "." and "..". */
  async isEmpty(ino: number): Promise<boolean> {
    const dir = await this.dirInode(ino);
    for await (const reg of this.regions(dir)) {
      for (const e of this.regionEntries(dir, reg)) {
        const n = e.name.toString('latin1');
        if (n !== '.' && n !== '..') return false;
      }
    }
    return true;
  }
}
