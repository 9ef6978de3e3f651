/** nk records: a key's name, parent, subkey list, value list, security and class name. */
import { Cells } from './cells.js';
import { HiveError } from './errors.js';
import { decodeName } from './names.js';

/** Field offsets inside the cell data (after the size). */
export const NK = {
  FLAGS: 2,
  TIMESTAMP: 4,
  PARENT: 16,
  SUBKEY_COUNT: 20,
  VOLATILE_COUNT: 24,
  SUBKEY_LIST: 28,
  VOLATILE_LIST: 32,
  VALUE_COUNT: 36,
  VALUE_LIST: 40,
  SECURITY: 44,
  CLASS: 48,
  MAX_SUBKEY_NAME: 52,
  MAX_CLASS: 56,
  MAX_VALUE_NAME: 60,
  MAX_VALUE_DATA: 64,
  NAME_LENGTH: 72,
  CLASS_LENGTH: 74,
  NAME: 76,
} as const;

export const NK_COMPRESSED_NAME = 0x0020;
export const NK_ROOT = 0x0004;

export interface NkRecord {
  at: number;
  flags: number;
  name: string;
  /** File offsets, or undefined for none. */
  parent: number | undefined;
  subkeyCount: number;
  subkeyList: number | undefined;
  valueCount: number;
  valueList: number | undefined;
  security: number | undefined;
  className: number | undefined;
}

export function readNk(cells: Cells, at: number): NkRecord {
  const d = cells.record(at, 'nk record', ['nk'], NK.NAME);
  const flags = d.readUInt16LE(NK.FLAGS);
  const nameLength = d.readUInt16LE(NK.NAME_LENGTH);
  if (NK.NAME + nameLength > d.length) throw new HiveError(cells.name, 'nk record', `name of ${nameLength} bytes runs past the ${d.length}-byte cell`, at);
  return {
    at,
    flags,
    name: decodeName(d.subarray(NK.NAME, NK.NAME + nameLength), (flags & NK_COMPRESSED_NAME) !== 0),
    parent: Cells.target(d.readUInt32LE(NK.PARENT)),
    subkeyCount: d.readUInt32LE(NK.SUBKEY_COUNT),
    subkeyList: Cells.target(d.readUInt32LE(NK.SUBKEY_LIST)),
    valueCount: d.readUInt32LE(NK.VALUE_COUNT),
    valueList: Cells.target(d.readUInt32LE(NK.VALUE_LIST)),
    security: Cells.target(d.readUInt32LE(NK.SECURITY)),
    className: Cells.target(d.readUInt32LE(NK.CLASS)),
  };
}
