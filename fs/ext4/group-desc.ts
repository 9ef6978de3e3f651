/** Block group descriptors (32-byte, or 64-byte with the 64bit feature), all held in memory. */
import { corrupt } from '../errors.js';
import type { BlockIO } from './block-io.js';
import { INCOMPAT, RO_COMPAT } from './constants.js';
import { crc16 } from './crc16.js';
import { crc32c, crc32cU32 } from './crc32c.js';
import type { Superblock } from './superblock.js';

/** Field offsets: low half, and high half (64-byte descriptors only). */
const LO = { blockBitmap: 0x0, inodeBitmap: 0x4, inodeTable: 0x8, freeBlocks: 0xc, freeInodes: 0xe, usedDirs: 0x10, flags: 0x12, blockBitmapCsum: 0x18, inodeBitmapCsum: 0x1a, itableUnused: 0x1c, checksum: 0x1e } as const;
const HI = { blockBitmap: 0x20, inodeBitmap: 0x24, inodeTable: 0x28, freeBlocks: 0x2c, freeInodes: 0x2e, usedDirs: 0x30, itableUnused: 0x32, blockBitmapCsum: 0x38, inodeBitmapCsum: 0x3a } as const;
/** A group descriptor table larger than this is refused (2^20 groups of 64 bytes). */
const MAX_GDT_BYTES = 64 << 20;

export const BG_INODE_UNINIT = 0x1;
export const BG_BLOCK_UNINIT = 0x2;

type Wide = 'freeBlocks' | 'freeInodes' | 'usedDirs' | 'itableUnused';

export class GroupDescs {
  /** Device block holding each GDT block, for writing descriptors back. */
  readonly gdtBlocks: number[];

  private constructor(
    private readonly sb: Superblock,
    readonly raw: Buffer,
    gdtBlocks: number[],
  ) {
    this.gdtBlocks = gdtBlocks;
  }

  static async read(io: BlockIO, sb: Superblock): Promise<GroupDescs> {
    const perBlock = sb.blockSize / sb.descSize;
    const nBlocks = Math.ceil(sb.groupCount / perBlock);
    if (nBlocks * sb.blockSize > MAX_GDT_BYTES) throw corrupt(io.name, 'ext4 group descriptors', `${sb.groupCount} groups is more than this driver handles`);
    const locs: number[] = [];
    for (let i = 0; i < nBlocks; i++) locs.push(gdtBlockLocation(sb, i));
    const raw = Buffer.alloc(nBlocks * sb.blockSize);
    // Runs of consecutive GDT blocks are read together (all of them without meta_bg).
    for (let i = 0; i < nBlocks;) {
      let j = i + 1;
      while (j < nBlocks && locs[j] === locs[i]! + (j - i)) j++;
      io.checkBlock(locs[i]!, j - i, 'ext4 group descriptor table');
      (await io.readBlocks(locs[i]!, j - i)).copy(raw, i * sb.blockSize);
      i = j;
    }
    const gd = new GroupDescs(sb, raw, locs);
    gd.check(io);
    return gd;
  }

  private check(io: BlockIO): void {
    const sb = this.sb;
    for (let g = 0; g < sb.groupCount; g++) {
      const at = BigInt(this.gdtBlocks[Math.floor((g * sb.descSize) / sb.blockSize)]!) * BigInt(sb.blockSize) + BigInt((g * sb.descSize) % sb.blockSize);
      if ((sb.metadataCsum || sb.hasRo(RO_COMPAT.GDT_CSUM)) && this.checksum(g) !== this.raw.readUInt16LE(g * sb.descSize + LO.checksum)) {
        throw corrupt(io.name, `ext4 group descriptor ${g}`, 'checksum mismatch', at);
      }
      const itable = this.inodeTable(g);
      const itableBlocks = Math.ceil((sb.inodesPerGroup * sb.inodeSize) / sb.blockSize);
      if (itable < 1 || BigInt(itable + itableBlocks) > sb.blocksCount) {
        throw corrupt(io.name, `ext4 group descriptor ${g}`, `inode table block ${itable} outside the filesystem`, at);
      }
    }
  }

  private u32(g: number, lo: number, hi: number): number {
    const o = g * this.sb.descSize;
    const low = this.raw.readUInt32LE(o + lo);
    return this.sb.descSize >= 64 ? low + this.raw.readUInt32LE(o + hi) * 2 ** 32 : low;
  }

  private wide(g: number, f: Wide): number {
    const o = g * this.sb.descSize;
    const low = this.raw.readUInt16LE(o + LO[f]);
    return this.sb.descSize >= 64 ? low + this.raw.readUInt16LE(o + HI[f]) * 65536 : low;
  }

  private setWide(g: number, f: Wide, v: number): void {
    const o = g * this.sb.descSize;
    this.raw.writeUInt16LE(v & 0xffff, o + LO[f]);
    if (this.sb.descSize >= 64) this.raw.writeUInt16LE(v >>> 16, o + HI[f]);
  }

  blockBitmap(g: number): number { return this.u32(g, LO.blockBitmap, HI.blockBitmap); }
  inodeBitmap(g: number): number { return this.u32(g, LO.inodeBitmap, HI.inodeBitmap); }
  inodeTable(g: number): number { return this.u32(g, LO.inodeTable, HI.inodeTable); }
  freeBlocks(g: number): number { return this.wide(g, 'freeBlocks'); }
  freeInodes(g: number): number { return this.wide(g, 'freeInodes'); }
  usedDirs(g: number): number { return this.wide(g, 'usedDirs'); }
  itableUnused(g: number): number { return this.wide(g, 'itableUnused'); }
  flags(g: number): number { return this.raw.readUInt16LE(g * this.sb.descSize + LO.flags); }

  setFreeBlocks(g: number, v: number): void { this.setWide(g, 'freeBlocks', v); }
  setFreeInodes(g: number, v: number): void { this.setWide(g, 'freeInodes', v); }
  setUsedDirs(g: number, v: number): void { this.setWide(g, 'usedDirs', v); }
  setItableUnused(g: number, v: number): void { this.setWide(g, 'itableUnused', v); }
  setFlags(g: number, v: number): void { this.raw.writeUInt16LE(v, g * this.sb.descSize + LO.flags); }

  /** Store a bitmap's checksum (metadata_csum): crc32c(seed, bitmap bytes). */
  setBitmapCsum(g: number, which: 'block' | 'inode', bitmap: Buffer, bytes: number): void {
    const c = crc32c(this.sb.csumSeed, bitmap, 0, bytes);
    const o = g * this.sb.descSize;
    this.raw.writeUInt16LE(c & 0xffff, o + (which === 'block' ? LO.blockBitmapCsum : LO.inodeBitmapCsum));
    if (this.sb.descSize >= 64) this.raw.writeUInt16LE(c >>> 16, o + (which === 'block' ? HI.blockBitmapCsum : HI.inodeBitmapCsum));
  }

  checksum(g: number): number {
    const size = this.sb.descSize;
    const desc = Buffer.from(this.raw.subarray(g * size, (g + 1) * size));
    if (this.sb.metadataCsum) {
      desc.writeUInt16LE(0, LO.checksum);
      return crc32c(crc32cU32(this.sb.csumSeed, g), desc) & 0xffff;
    }
    const gnum = Buffer.alloc(4);
    gnum.writeUInt32LE(g);
    let crc = crc16(crc16(0xffff, this.sb.uuid), gnum);
    crc = crc16(crc, desc, 0, LO.checksum);
    if (size > LO.checksum + 2) crc = crc16(crc, desc, LO.checksum + 2, size);
    return crc;
  }

  /** Recompute group `g`'s checksum and return the GDT block (index, bytes) to write. */
  seal(g: number): { block: number; data: Buffer } {
    const size = this.sb.descSize;
    if (this.sb.metadataCsum || this.sb.hasRo(RO_COMPAT.GDT_CSUM)) this.raw.writeUInt16LE(this.checksum(g), g * size + LO.checksum);
    const idx = Math.floor((g * size) / this.sb.blockSize);
    return { block: this.gdtBlocks[idx]!, data: this.raw.subarray(idx * this.sb.blockSize, (idx + 1) * this.sb.blockSize) };
  }
}

/** First block of group `g`. */
export function groupFirstBlock(sb: Superblock, g: number): number {
  return sb.firstDataBlock + g * sb.blocksPerGroup;
}

/** Where GDT block `i` lives: after the primary superblock, or (meta_bg) in its meta group. */
function gdtBlockLocation(sb: Superblock, i: number): number {
  // 1 KiB blocks with bigalloc start group 0 at block 0, but the superblock still fills block 1.
  const zeroAdjust = sb.blockSize === 1024 && sb.firstDataBlock === 0 ? 1 : 0;
  if (!sb.has(INCOMPAT.META_BG) || i < sb.firstMetaBg) return sb.firstDataBlock + zeroAdjust + 1 + i;
  const group = i * (sb.blockSize / sb.descSize);
  return groupFirstBlock(sb, group) + (sb.hasSuperBackup(group) ? 1 : 0) + (group === 0 ? zeroAdjust : 0);
}
