/**
 * Block and inode allocation through the group bitmaps, the group descriptors' free counts
 * and the superblock's. Uninitialised bitmaps (BLOCK_UNINIT / INODE_UNINIT) are built in
 * memory the way e2fsprogs would see them before the first allocation in their group.
 */
import { FsError } from '../errors.js';
import type { BlockIO } from './block-io.js';
import { INCOMPAT } from './constants.js';
import { BG_BLOCK_UNINIT, BG_INODE_UNINIT, groupFirstBlock, type GroupDescs } from './group-desc.js';
import type { Superblock } from './superblock.js';


export class Allocator {
  /** Group-descriptor indexes and bitmaps changed since the last `flush`. */
  private readonly dirtyGroups = new Set<number>();
  private readonly dirtyBitmaps = new Map<number, { g: number; which: 'block' | 'inode'; buf: Buffer }>();
  /**
   * Journaled filesystems: blocks freed since the last commit, per group, which are not
   * reused until it (as jbd2 does): until then the image on disk may still point at them.
   */
  private pinned: Map<number, Buffer> | null = null;

  constructor(
    private readonly io: BlockIO,
    private readonly sb: Superblock,
    private readonly gd: GroupDescs,
  ) {}

  /** Hold freed blocks until `unpin` (a journaled open; see `pinned`). */
  pinFrees(): void {
    this.pinned ??= new Map();
  }

  /** The running transaction is committed: its freed blocks may be reused. */
  unpin(): void {
    this.pinned?.clear();
  }

  private blocksInGroup(g: number): number {
    const first = groupFirstBlock(this.sb, g);
    return Math.min(this.sb.blocksPerGroup, Number(this.sb.blocksCount) - first);
  }

  /** Blocks of group `g` that hold metadata of any group (or superblock/GDT copies). */
  private metadataBlocksOf(g: number): number[] {
    const sb = this.sb;
    const first = groupFirstBlock(sb, g);
    const end = first + this.blocksInGroup(g);
    const out: number[] = [];
    if (sb.hasSuperBackup(g)) {
      const gdtBlocks = Math.ceil((sb.groupCount * sb.descSize) / sb.blockSize);
      out.push(first);
      if (!sb.has(INCOMPAT.META_BG)) for (let i = 0; i < gdtBlocks + sb.reservedGdtBlocks; i++) out.push(first + 1 + i);
    }
    if (sb.has(INCOMPAT.META_BG)) {
      const perMeta = sb.blockSize / sb.descSize;
      const rel = g % perMeta;
      if (Math.floor(g / perMeta) >= sb.firstMetaBg && (rel === 0 || rel === 1 || rel === perMeta - 1)) out.push(first + (sb.hasSuperBackup(g) ? 1 : 0));
    }
    const itableBlocks = Math.ceil((sb.inodesPerGroup * sb.inodeSize) / sb.blockSize);
    for (let h = 0; h < sb.groupCount; h++) {
      for (const b of [this.gd.blockBitmap(h), this.gd.inodeBitmap(h)]) if (b >= first && b < end) out.push(b);
      const it = this.gd.inodeTable(h);
      for (let i = 0; i < itableBlocks; i++) if (it + i >= first && it + i < end) out.push(it + i);
    }
    return out.filter((b) => b >= first && b < end);
  }

  private async bitmap(g: number, which: 'block' | 'inode'): Promise<Buffer> {
    const key = which === 'block' ? g * 2 : g * 2 + 1;
    const dirty = this.dirtyBitmaps.get(key);
    if (dirty) return dirty.buf;
    const loc = which === 'block' ? this.gd.blockBitmap(g) : this.gd.inodeBitmap(g);
    const flag = which === 'block' ? BG_BLOCK_UNINIT : BG_INODE_UNINIT;
    let buf: Buffer;
    if (this.gd.flags(g) & flag) {
      buf = Buffer.alloc(this.sb.blockSize);
      if (which === 'block') {
        const first = groupFirstBlock(this.sb, g);
        for (const b of this.metadataBlocksOf(g)) setBit(buf, b - first);
        for (let i = this.blocksInGroup(g); i < this.sb.blockSize * 8; i++) setBit(buf, i);
      } else {
        for (let i = this.sb.inodesPerGroup; i < this.sb.blockSize * 8; i++) setBit(buf, i);
      }
    } else {
      buf = Buffer.from(await this.io.block(loc, `group ${g} ${which} bitmap`));
    }
    this.dirtyBitmaps.set(key, { g, which, buf });
    return buf;
  }

  /**
   * Allocate up to `want` contiguous blocks, at `goal` or the first free run after it.
   * Returns the first block and the count (at least 1), or ENOSPC.
   */
  async allocBlocks(goal: number, want: number): Promise<{ start: number; len: number }> {
    const sb = this.sb;
    const goalGroup = Math.max(0, Math.min(sb.groupCount - 1, Math.floor((goal - sb.firstDataBlock) / sb.blocksPerGroup)));
    for (let k = 0; k < sb.groupCount; k++) {
      const g = (goalGroup + k) % sb.groupCount;
      if (this.gd.freeBlocks(g) === 0) continue;
      const bm = await this.bitmap(g, 'block');
      const first = groupFirstBlock(sb, g);
      const n = this.blocksInGroup(g);
      const startBit = k === 0 ? Math.max(0, Math.min(n - 1, goal - first)) : 0;
      const pin = this.pinned?.get(g);
      const busy = pin ? (i: number) => testBit(bm, i) || testBit(pin, i) : (i: number) => testBit(bm, i);
      for (let pass = 0; pass < 2; pass++) {
        const from = pass === 0 ? startBit : 0;
        const to = pass === 0 ? n : startBit;
        for (let i = from; i < to; i++) {
          if (busy(i)) continue;
          let len = 1;
          while (len < want && i + len < n && !busy(i + len)) len++;
          for (let j = 0; j < len; j++) setBit(bm, i + j);
          this.adjustBlocks(g, -len);
          return { start: first + i, len };
        }
      }
    }
    throw new FsError('ENOSPC', `${this.io.name}: no free blocks`);
  }

  async freeBlocks(start: number, len: number): Promise<void> {
    for (let b = start; b < start + len;) {
      const g = Math.floor((b - this.sb.firstDataBlock) / this.sb.blocksPerGroup);
      const first = groupFirstBlock(this.sb, g);
      const bm = await this.bitmap(g, 'block');
      let pin = this.pinned?.get(g);
      if (this.pinned && !pin) this.pinned.set(g, (pin = Buffer.alloc(bm.length)));
      let n = 0;
      for (; b < start + len && b < first + this.sb.blocksPerGroup; b++, n++) {
        if (!testBit(bm, b - first)) throw new FsError('EIO', `${this.io.name}: freeing block ${b}, which is already free`);
        clearBit(bm, b - first);
        if (pin) setBit(pin, b - first);
      }
      this.adjustBlocks(g, n);
    }
  }

  private adjustBlocks(g: number, delta: number): void {
    this.gd.setFreeBlocks(g, this.gd.freeBlocks(g) + delta);
    this.gd.setFlags(g, this.gd.flags(g) & ~BG_BLOCK_UNINIT);
    this.sb.freeBlocks = this.sb.freeBlocks + BigInt(delta);
    this.dirtyGroups.add(g);
  }

  /** Allocate an inode, starting in `goalGroup`. */
  async allocInode(goalGroup: number, dir: boolean): Promise<number> {
    const sb = this.sb;
    for (let k = 0; k < sb.groupCount; k++) {
      const g = (goalGroup + k) % sb.groupCount;
      if (this.gd.freeInodes(g) === 0) continue;
      const bm = await this.bitmap(g, 'inode');
      for (let i = 0; i < sb.inodesPerGroup; i++) {
        const ino = g * sb.inodesPerGroup + i + 1;
        if (testBit(bm, i) || ino < sb.firstIno) continue;
        setBit(bm, i);
        this.gd.setFreeInodes(g, this.gd.freeInodes(g) - 1);
        if (dir) this.gd.setUsedDirs(g, this.gd.usedDirs(g) + 1);
        // Inodes past the "unused" mark must stay unused: move the mark.
        const unused = this.gd.itableUnused(g);
        if (sb.inodesPerGroup - unused <= i) this.gd.setItableUnused(g, sb.inodesPerGroup - i - 1);
        this.gd.setFlags(g, this.gd.flags(g) & ~BG_INODE_UNINIT);
        sb.freeInodes = sb.freeInodes - 1;
        this.dirtyGroups.add(g);
        return ino;
      }
    }
    throw new FsError('ENOSPC', `${this.io.name}: no free inodes`);
  }

  async freeInode(ino: number, dir: boolean): Promise<void> {
    const g = Math.floor((ino - 1) / this.sb.inodesPerGroup);
    const bm = await this.bitmap(g, 'inode');
    clearBit(bm, (ino - 1) % this.sb.inodesPerGroup);
    this.gd.setFreeInodes(g, this.gd.freeInodes(g) + 1);
    if (dir) this.gd.setUsedDirs(g, this.gd.usedDirs(g) - 1);
    this.sb.freeInodes = this.sb.freeInodes + 1;
    this.dirtyGroups.add(g);
  }

  /** Write changed bitmaps, then the descriptors that count them (with fresh checksums). */
  async flush(): Promise<void> {
    for (const { g, which, buf } of this.dirtyBitmaps.values()) {
      const loc = which === 'block' ? this.gd.blockBitmap(g) : this.gd.inodeBitmap(g);
      if (this.sb.metadataCsum) {
        const bytes = which === 'block' ? this.sb.blocksPerGroup / this.sb.clusterRatio / 8 : this.sb.inodesPerGroup / 8;
        this.gd.setBitmapCsum(g, which, buf, bytes);
      }
      await this.io.write(loc, buf);
      this.dirtyGroups.add(g);
    }
    this.dirtyBitmaps.clear();
    const blocks = new Map<number, Buffer>();
    for (const g of this.dirtyGroups) {
      const { block, data } = this.gd.seal(g);
      blocks.set(block, data);
    }
    for (const [block, data] of blocks) await this.io.write(block, data);
    this.dirtyGroups.clear();
  }
}

function testBit(b: Buffer, i: number): boolean {
  return (b[i >> 3]! & (1 << (i & 7))) !== 0;
}
function setBit(b: Buffer, i: number): void {
  b[i >> 3] = b[i >> 3]! | (1 << (i & 7));
}
function clearBit(b: Buffer, i: number): void {
  b[i >> 3] = b[i >> 3]! & ~(1 << (i & 7));
}
