/**
 * vk records: a value's name, type and data. Data of four bytes or less lives in the offset
 * field itself (the length's top bit says so); longer data has a cell of its own, or a db record
 * when the cell could not hold it.
 */
import { dbCells, readBigData } from './big-data.js';
import { Cells } from './cells.js';
import { HiveError } from './errors.js';
import { decodeName } from './names.js';

export const VK = { NAME_LENGTH: 2, DATA_LENGTH: 4, DATA: 8, TYPE: 12, FLAGS: 16, NAME: 20 } as const;
export const VK_COMPRESSED_NAME = 0x0001;
export const DATA_INLINE = 0x80000000;

export interface VkRecord {
  at: number;
  name: string;
  type: number;
  length: number;
  /** File offset of the data cell (direct or db), undefined when inline. */
  dataCell: number | undefined;
}

export function readVk(cells: Cells, at: number): VkRecord {
  const d = cells.record(at, 'vk record', ['vk'], VK.NAME);
  const nameLength = d.readUInt16LE(VK.NAME_LENGTH);
  if (VK.NAME + nameLength > d.length) throw new HiveError(cells.name, 'vk record', `name of ${nameLength} bytes runs past the ${d.length}-byte cell`, at);
  const rawLength = d.readUInt32LE(VK.DATA_LENGTH);
  const inline = (rawLength & DATA_INLINE) !== 0;
  const length = rawLength & ~DATA_INLINE;
  if (inline && length > 4) throw new HiveError(cells.name, 'vk record', `inline data declares ${length} bytes (at most 4)`, at);
  return {
    at,
    name: decodeName(d.subarray(VK.NAME, VK.NAME + nameLength), (d.readUInt16LE(VK.FLAGS) & VK_COMPRESSED_NAME) !== 0),
    type: d.readUInt32LE(VK.TYPE),
    length,
    dataCell: inline || length === 0 ? undefined : cells.pointer(d.readUInt32LE(VK.DATA), 'vk record', at),
  };
}

/** The value's bytes (a copy: the writer may reuse the cells). */
export function readVkData(cells: Cells, vk: VkRecord): Buffer {
  if (vk.dataCell === undefined) {
    return Buffer.from(cells.data(vk.at, 'vk record').subarray(VK.DATA, VK.DATA + vk.length));
  }
  const d = cells.data(vk.dataCell, 'value data');
  if (vk.length <= d.length) return Buffer.from(d.subarray(0, vk.length));
  if (d.toString('latin1', 0, 2) !== 'db') {
    throw new HiveError(cells.name, 'value data', `cell of ${d.length} bytes is shorter than the ${vk.length} bytes value "${vk.name}" declares, and is no db record`, vk.dataCell);
  }
  return readBigData(cells, vk.dataCell, vk.length);
}

/** The value list: an id-less cell of vk offsets. */
export function readValueList(cells: Cells, at: number, count: number): number[] {
  const d = cells.data(at, 'value list');
  if (count * 4 > d.length) throw new HiveError(cells.name, 'value list', `${count} values run past the ${d.length}-byte cell`, at);
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(cells.pointer(d.readUInt32LE(i * 4), 'value list', at));
  return out;
}

/** The cells holding a value's data: none when inline, one cell, or a db record with its list and segments. */
export function dataCells(cells: Cells, vk: VkRecord): number[] {
  if (vk.dataCell === undefined) return [];
  if (vk.length <= cells.data(vk.dataCell, 'value data').length) return [vk.dataCell];
  const { list, segments } = dbCells(cells, vk.dataCell);
  return [vk.dataCell, list, ...segments];
}
