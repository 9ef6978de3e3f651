/**
 * Inodes by number: where each sits in its group's table, parsed and checked (extra size,
 * checksum), kept in a bounded cache, and the file map each one's i_block describes. The
 * reader and the writer share one table, so an inode the writer saves is what the next read
 * sees.
 */
import { Lru } from '../../disk/lru.js';
import { corrupt, FsError } from '../errors.js';
import type { BlockIO } from './block-io.js';
import { BlockMap } from './block-map.js';
import { inodeCsum } from './checksums.js';
import { INODE_FLAG, RO_COMPAT } from './constants.js';
import { extentCache, ExtentMap } from './extents.js';
import type { FileMap } from './file-map.js';
import { BG_INODE_UNINIT, type GroupDescs } from './group-desc.js';
import { GOOD_OLD_INODE_SIZE, I, Inode } from './inode.js';
import type { Superblock } from './superblock.js';

/**
 * Inodes kept parsed in memory. Hits are read with `peek` (oldest out first): marking each use
 * costs a Map delete and insert, which showed as the top of a profile of 10,000 lookups.
 */
const INODE_CACHE = 16384;

export class InodeTable {
  /** Parsed extent-tree blocks, shared by every file. */
  readonly extCache = extentCache();
  private readonly cache = new Lru<number, Inode>(INODE_CACHE);

  constructor(
    readonly io: BlockIO,
    readonly sb: Superblock,
    readonly gd: GroupDescs,
  ) {}

  private get dev(): string {
    return this.io.name;
  }

  /** Block and byte offset of inode `ino` on the device. */
  location(ino: number): { block: number; offset: number } {
    const sb = this.sb;
    if (!Number.isInteger(ino) || ino < 1 || ino > sb.inodesCount) throw new FsError('EIO', `${this.dev}: inode number ${ino} is outside 1..${sb.inodesCount}`);
    const g = Math.floor((ino - 1) / sb.inodesPerGroup);
    const byte = ((ino - 1) % sb.inodesPerGroup) * sb.inodeSize;
    return { block: this.gd.inodeTable(g) + Math.floor(byte / sb.blockSize), offset: byte % sb.blockSize };
  }

  /** Byte offset of an inode on the device, for messages. */
  byteOf(ino: number): bigint {
    const { block, offset } = this.location(ino);
    return BigInt(block) * BigInt(this.sb.blockSize) + BigInt(offset);
  }

  /** The first inode-table block of the inode's group: where its new blocks start looking. */
  groupStart(ino: number): number {
    return this.gd.inodeTable(Math.floor((ino - 1) / this.sb.inodesPerGroup));
  }

  /** Inode `ino` as stored, in use or not. */
  async get(ino: number): Promise<Inode> {
    const hit = this.cache.peek(ino);
    if (hit) return hit;
    const { block } = this.location(ino);
    if (!this.uninit(ino)) await this.io.block(block, `inode ${ino}`);
    return this.cached(ino)!;
  }

  private uninit(ino: number): boolean {
    const g = Math.floor((ino - 1) / this.sb.inodesPerGroup);
    return (this.gd.flags(g) & BG_INODE_UNINIT) !== 0 && (this.sb.metadataCsum || this.sb.hasRo(RO_COMPAT.GDT_CSUM));
  }

  /** The inode if its table block is in memory (readdir prefetches them), else undefined. */
  cached(ino: number): Inode | undefined {
    const hit = this.cache.peek(ino);
    if (hit) return hit;
    const { block, offset } = this.location(ino);
    let raw: Buffer;
    if (this.uninit(ino)) raw = Buffer.alloc(this.sb.inodeSize);
    else {
      const buf = this.io.cached(block);
      if (!buf) return undefined;
      // A view, not a copy: listings touch thousands of inodes. Writers copy before changing.
      raw = buf.subarray(offset, offset + this.sb.inodeSize);
    }
    const inode = new Inode(ino, raw);
    const at = BigInt(block) * BigInt(this.sb.blockSize) + BigInt(offset);
    if (this.sb.inodeSize > GOOD_OLD_INODE_SIZE && GOOD_OLD_INODE_SIZE + inode.extraIsize > this.sb.inodeSize) {
      throw corrupt(this.dev, `inode ${ino}`, `i_extra_isize ${inode.extraIsize} overruns the inode`, at);
    }
    if (this.sb.metadataCsum && inode.mode !== 0 && !inode.checksumOk(this.sb.csumSeed)) {
      throw corrupt(this.dev, `inode ${ino}`, 'checksum mismatch', at);
    }
    this.cache.set(ino, inode);
    return inode;
  }

  /** An inode that a directory entry or caller names: it must be in use and sane. */
  async live(ino: number): Promise<Inode> {
    return this.checkLive(this.cached(ino) ?? (await this.get(ino)));
  }

  checkLive(inode: Inode): Inode {
    if (inode.mode === 0 || (inode.links === 0 && inode.dtime !== 0)) throw corrupt(this.dev, `inode ${inode.ino}`, 'is not in use');
    if (inode.size > this.maxSize(inode) || inode.size > Number.MAX_SAFE_INTEGER) {
      // Printed exactly: a 2^63 claim is not a JS number's 9223372036854776000.
      const size = (BigInt(inode.raw.readUInt32LE(I.sizeHi)) << 32n) | BigInt(inode.raw.readUInt32LE(I.sizeLo));
      throw corrupt(this.dev, `inode ${inode.ino}`, `i_size ${size} is larger than the mapping can address (${this.maxSize(inode)})`, this.byteOf(inode.ino) + BigInt(I.sizeLo));
    }
    return inode;
  }

  /** Largest file size the inode's mapping can address. */
  private maxSize(inode: Inode): number {
    const bs = this.sb.blockSize;
    if (inode.hasFlag(INODE_FLAG.EXTENTS)) return 2 ** 32 * bs;
    const per = bs / 4;
    return Math.min(2 ** 32 * bs, (12 + per + per * per + per * per * per) * bs);
  }

  /** Read the inode-table blocks holding these inodes in as few device reads as possible. */
  async prefetch(inos: number[]): Promise<void> {
    const blocks = new Set<number>();
    for (const ino of inos) if (!this.cache.has(ino)) blocks.add(this.location(ino).block);
    await this.io.prefetch([...blocks], 'inode table');
  }

  /** A private copy of an inode to change and then `save`. */
  async own(ino: number): Promise<Inode> {
    const live = await this.live(ino);
    return new Inode(ino, Buffer.from(live.raw));
  }

  /** Seal (checksum) and write an inode; later reads see it. */
  async save(inode: Inode): Promise<void> {
    inode.seal(this.sb.csumSeed, this.sb.metadataCsum);
    const { block, offset } = this.location(inode.ino);
    const buf = await this.io.block(block, `inode ${inode.ino}`);
    inode.raw.copy(buf, offset);
    await this.io.write(block, buf);
    this.cache.set(inode.ino, new Inode(inode.ino, buf.subarray(offset, offset + this.sb.inodeSize)));
  }

  /** Drop a freed inode from the cache. */
  forget(ino: number): void {
    this.cache.delete(ino);
  }

  fileMap(inode: Inode): FileMap {
    if (inode.hasFlag(INODE_FLAG.EXTENTS)) {
      const csum = this.sb.metadataCsum ? (buf: Buffer, tailAt: number): number => inodeCsum(this.sb.csumSeed, inode, buf, tailAt) : null;
      return new ExtentMap(this.io, this.extCache, inode.iBlock, inode.ino, csum);
    }
    return new BlockMap(this.io, inode.iBlock, inode.ino);
  }
}
