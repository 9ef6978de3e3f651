/**
 * Cell allocation for writes: first fit among the free cells, split when the rest can stand as
 * a cell of its own; a new hbin appended (sized to fit) when no free cell is big enough; freed
 * cells merged with free neighbours, which are always in the same hbin since each hbin starts
 * with its header.
 */
import { BASE_BLOCK_SIZE } from './base-block.js';
import type { Cells } from './cells.js';
import { HBIN_HEADER } from './cells.js';
import { HiveError } from './errors.js';

const MIN_CELL = 8;
const BIN_UNIT = 4096;
/** Largest cell we make: the value length field has 31 bits. */
const MAX_CELL = 0x7ffffff8;

const align = (n: number, to: number): number => Math.ceil(n / to) * to;

export class Allocator {
  /** File offsets of free cells, ascending, and their sizes. */
  private readonly offsets: number[] = [];
  private readonly sizes = new Map<number, number>();

  constructor(private readonly cells: Cells) {
    const b = cells.buf;
    for (let i = 0; i < cells.binStarts.length; i++) {
      const start = cells.binStarts[i]!;
      const end = i + 1 < cells.binStarts.length ? cells.binStarts[i + 1]! : cells.end;
      for (let at = start + HBIN_HEADER; at < end; ) {
        const raw = b.readInt32LE(at);
        const size = Math.abs(raw);
        if (size < MIN_CELL || size % 4 !== 0 || at + size > end) {
          throw new HiveError(cells.name, 'cell', `size ${raw} does not fit its hbin (${start}..${end})`, at);
        }
        if (raw > 0) this.addFree(at, size);
        at += size;
      }
    }
  }

  /** Record a free cell, merging it with a free cell just before it. */
  private addFree(at: number, size: number): void {
    const last = this.offsets[this.offsets.length - 1];
    if (last !== undefined && last + this.sizes.get(last)! === at) {
      this.setFree(last, this.sizes.get(last)! + size);
      return;
    }
    this.offsets.push(at);
    this.setFree(at, size);
  }

  private setFree(at: number, size: number): void {
    this.sizes.set(at, size);
    this.cells.buf.writeInt32LE(size, at);
  }

  /** A zeroed allocated cell with room for `length` data bytes; its file offset. */
  alloc(length: number): number {
    const need = align(length + 4, 8);
    if (need > MAX_CELL) throw new HiveError(this.cells.name, 'cell', `${length} bytes is more than one cell can hold`);
    let i = this.offsets.findIndex((at) => this.sizes.get(at)! >= need);
    if (i < 0) i = this.appendBin(need);
    const at = this.offsets[i]!;
    const size = this.sizes.get(at)!;
    this.sizes.delete(at);
    if (size - need >= MIN_CELL) {
      this.offsets[i] = at + need;
      this.setFree(at + need, size - need);
    } else {
      this.offsets.splice(i, 1);
    }
    const taken = size - need >= MIN_CELL ? need : size;
    this.cells.buf.fill(0, at, at + taken);
    this.cells.buf.writeInt32LE(-taken, at);
    return at;
  }

  /** Append an hbin big enough for a `need`-byte cell; the index of its free cell. */
  private appendBin(need: number): number {
    const c = this.cells;
    const size = align(need + HBIN_HEADER, BIN_UNIT);
    const start = c.end;
    if (start + size > BASE_BLOCK_SIZE + 0xffffffff) throw new HiveError(c.name, 'hbin', 'hive would grow past 4 GiB');
    if (start + size > c.buf.length) {
      const grown = Buffer.alloc(Math.max(start + size, Math.floor(c.buf.length * 1.5)));
      c.buf.copy(grown, 0, 0, start);
      c.buf = grown;
    }
    c.buf.fill(0, start, start + size);
    c.buf.write('hbin', start, 'latin1');
    c.buf.writeUInt32LE(start - BASE_BLOCK_SIZE, start + 4);
    c.buf.writeUInt32LE(size, start + 8);
    c.binStarts.push(start);
    c.end = start + size;
    this.offsets.push(start + HBIN_HEADER);
    this.setFree(start + HBIN_HEADER, size - HBIN_HEADER);
    return this.offsets.length - 1;
  }

  /** Free an allocated cell, merging it with free neighbours. */
  free(at: number): void {
    const b = this.cells.buf;
    const raw = b.readInt32LE(at);
    if (raw >= 0) throw new HiveError(this.cells.name, 'cell', 'freed twice', at);
    let start = at;
    let size = -raw;
    // Index of the first free cell after `at`.
    let lo = 0;
    let hi = this.offsets.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.offsets[mid]! < at) lo = mid + 1;
      else hi = mid;
    }
    const next = this.offsets[lo];
    if (next === at + size) {
      size += this.sizes.get(next)!;
      this.sizes.delete(next);
      this.offsets.splice(lo, 1);
    }
    const prev = this.offsets[lo - 1];
    if (prev !== undefined && prev + this.sizes.get(prev)! === at) {
      start = prev;
      size += this.sizes.get(prev)!;
      this.setFree(prev, size);
      return;
    }
    this.offsets.splice(lo, 0, start);
    this.setFree(start, size);
  }

  /** Free cells as [offset, size] pairs, for tests. */
  freeCells(): Array<[number, number]> {
    return this.offsets.map((at) => [at, this.sizes.get(at)!]);
  }
}
