/**
 * Big data (db records): a value longer than 16344 bytes in a version 1.4+ hive is split into
 * segments of 16344 bytes, listed by a db record ("db", segment count, offset of the list).
 */
import type { Cells } from './cells.js';
import { HiveError } from './errors.js';

export const SEGMENT_BYTES = 16344;
export const DB = { COUNT: 2, LIST: 4, SIZE: 12 } as const;

/** The offsets of the segment list and of the segments. */
export function dbCells(cells: Cells, at: number): { list: number; segments: number[] } {
  const d = cells.record(at, 'db record', ['db'], 8);
  const n = d.readUInt16LE(DB.COUNT);
  const list = cells.pointer(d.readUInt32LE(DB.LIST), 'db record', at);
  const l = cells.data(list, 'db segment list');
  if (n * 4 > l.length) throw new HiveError(cells.name, 'db segment list', `${n} segments run past the ${l.length}-byte cell`, list);
  const segments: number[] = [];
  for (let i = 0; i < n; i++) segments.push(cells.pointer(l.readUInt32LE(i * 4), 'db segment list', list));
  return { list, segments };
}

export function readBigData(cells: Cells, at: number, length: number): Buffer {
  const { segments } = dbCells(cells, at);
  const parts: Buffer[] = [];
  let left = length;
  for (const s of segments) {
    if (left === 0) break;
    const d = cells.data(s, 'db segment');
    const take = Math.min(left, SEGMENT_BYTES);
    if (d.length < take) throw new HiveError(cells.name, 'db segment', `cell holds ${d.length} bytes, the value needs ${take} here`, s);
    parts.push(d.subarray(0, take));
    left -= take;
  }
  if (left > 0) throw new HiveError(cells.name, 'db record', `${segments.length} segments hold ${length - left} bytes, the value declares ${length}`, at);
  return Buffer.concat(parts);
}
