/**
 * sk records: security descriptors shared by keys, counted by reference and linked in a circular
 * list. The writer takes a reference for each new key and drops one for each deleted key.
 */
import type { Allocator } from './allocator.js';
import { BASE_BLOCK_SIZE } from './base-block.js';
import type { Cells } from './cells.js';
import { HiveError } from './errors.js';

const SK = { NEXT: 4, PREVIOUS: 8, REFERENCES: 12 } as const;
const HEADER = 20;

function sk(cells: Cells, at: number): Buffer {
  return cells.record(at, 'sk record', ['sk'], HEADER);
}

export function addSkReference(cells: Cells, at: number): void {
  const d = sk(cells, at);
  const n = d.readUInt32LE(SK.REFERENCES);
  if (n === 0xffffffff) throw new HiveError(cells.name, 'sk record', 'reference count is at its maximum', at);
  d.writeUInt32LE(n + 1, SK.REFERENCES);
}

/** Check that `drops` references can be dropped from the record (and its list neighbours are sk records). */
export function checkSkDrops(cells: Cells, at: number, drops: number): void {
  const d = sk(cells, at);
  const n = d.readUInt32LE(SK.REFERENCES);
  if (n < drops) throw new HiveError(cells.name, 'sk record', `reference count ${n} is below the ${drops} keys being deleted that use it`, at);
  sk(cells, BASE_BLOCK_SIZE + d.readUInt32LE(SK.NEXT));
  sk(cells, BASE_BLOCK_SIZE + d.readUInt32LE(SK.PREVIOUS));
}

/** Drop a reference (checked beforehand by `checkSkDrops`); the last one unlinks and frees the record. */
export function dropSkReference(cells: Cells, alloc: Allocator, at: number): void {
  const d = sk(cells, at);
  const n = d.readUInt32LE(SK.REFERENCES) - 1;
  d.writeUInt32LE(n, SK.REFERENCES);
  if (n > 0) return;
  const next = d.readUInt32LE(SK.NEXT);
  const previous = d.readUInt32LE(SK.PREVIOUS);
  if (next !== at - BASE_BLOCK_SIZE) {
    sk(cells, BASE_BLOCK_SIZE + previous).writeUInt32LE(next, SK.NEXT);
    sk(cells, BASE_BLOCK_SIZE + next).writeUInt32LE(previous, SK.PREVIOUS);
  }
  alloc.free(at);
}
