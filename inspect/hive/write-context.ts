/** What every write needs: the cells, the allocator, the hive version and the time of the change. */
import type { Allocator } from './allocator.js';
import { BASE_BLOCK_SIZE } from './base-block.js';
import type { Cells } from './cells.js';
import { NK } from './nk.js';

export interface WriteContext {
  cells: Cells;
  alloc: Allocator;
  minor: number;
  /** FILETIME stamped on the keys a write changes. */
  stamp: bigint;
  /** File offset of the root key, which cannot be deleted. */
  root: number;
}

/** A file offset as the format's offset fields hold it. */
export const field = (at: number): number => at - BASE_BLOCK_SIZE;

/** The nk record's cell data, for changing fields in place. */
export function nkData(ctx: WriteContext, at: number): Buffer {
  const d = ctx.cells.record(at, 'nk record', ['nk'], NK.NAME);
  d.writeBigUInt64LE(ctx.stamp, NK.TIMESTAMP);
  return d;
}

/** Raise a 32-bit maximum field to at least `n`; `mask` limits the bits it owns (the rest are flags). */
export function raise(d: Buffer, offset: number, n: number, mask = 0xffffffff): void {
  const old = d.readUInt32LE(offset);
  if ((old & mask) >>> 0 < n) d.writeUInt32LE(((old & ~mask) | (n & mask)) >>> 0, offset);
}
