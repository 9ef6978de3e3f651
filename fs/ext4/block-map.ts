/** Old ext2/ext3 block maps: 12 direct blocks, then single, double and triple indirect blocks. */
import { corrupt } from '../errors.js';
import type { BlockIO } from './block-io.js';
import type { FileMap, Run } from './file-map.js';

const DIRECT = 12;

export class BlockMap implements FileMap {
  private readonly per: number;

  constructor(
    private readonly io: BlockIO,
    private readonly iBlock: Buffer,
    private readonly ino: number,
  ) {
    this.per = io.blockSize / 4;
  }

  private checked(block: number, where: string): number {
    if (block !== 0 && BigInt(block) >= this.io.blocksCount) {
      throw corrupt(this.io.name, `inode ${this.ino} block map`, `${where} points at block ${block}, outside the filesystem`);
    }
    return block;
  }

  async map(lblk: number, maxLen: number): Promise<Run> {
    const per = this.per;
    if (lblk < DIRECT) {
      return this.runIn((i) => this.iBlock.readUInt32LE(i * 4), lblk, DIRECT, lblk, maxLen, 'direct entry');
    }
    // Find the level and the indirect block that holds `lblk`'s entry.
    let rel = lblk - DIRECT;
    let level = 1;
    let span = per;
    while (rel >= span) {
      rel -= span;
      level++;
      span *= per;
      if (level > 3) throw corrupt(this.io.name, `inode ${this.ino} block map`, `logical block ${lblk} is past the triple indirect range`);
    }
    let block = this.checked(this.iBlock.readUInt32LE((DIRECT + level - 1) * 4), 'indirect root');
    // Descend: at each level the entry covers span/per blocks.
    let sub = span;
    let holeLen = span - rel;
    while (sub > 1) {
      if (block === 0) return { lblk, pblk: 0, len: Math.min(maxLen, holeLen) };
      sub /= per;
      const idx = Math.floor(rel / sub);
      rel %= sub;
      holeLen = sub - rel;
      const buf = await this.io.block(block, `inode ${this.ino} indirect block`);
      if (sub === 1) return this.runIn((i) => buf.readUInt32LE(i * 4), idx, per, lblk, maxLen, `indirect block ${block} entry`);
      block = this.checked(buf.readUInt32LE(idx * 4), `indirect block entry ${idx}`);
    }
    return { lblk, pblk: 0, len: 1 };
  }

  /** A run within one table of block numbers, starting at entry `i`. */
  private runIn(entry: (i: number) => number, i: number, n: number, lblk: number, maxLen: number, where: string): Run {
    const first = this.checked(entry(i), where);
    let len = 1;
    while (len < maxLen && i + len < n) {
      const next = entry(i + len);
      if (first === 0 ? next !== 0 : next !== first + len) break;
      this.checked(next, where);
      len++;
    }
    return { lblk, pblk: first, len };
  }
}
