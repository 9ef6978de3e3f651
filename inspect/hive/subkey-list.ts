/**
 * Subkey lists: leaves are lf (offset + 4-character hint), lh (offset + name hash) or li
 * (offsets only); an ri list points at leaves. Windows nests no deeper than one ri, so an ri
 * inside an ri (which is how a list that points at itself shows) is an error.
 */
import { Cells } from './cells.js';
import { HiveError } from './errors.js';

export type LeafKind = 'lf' | 'lh' | 'li';
export interface Leaf {
  at: number;
  kind: LeafKind;
  /** File offsets of the nk records, in list order. */
  keys: number[];
  /** lh hashes or lf hints (as a little-endian u32), parallel to keys; absent for li. */
  hashes?: number[];
}

/** Bytes per entry of each list kind. */
export const ENTRY_SIZE: Record<LeafKind | 'ri', number> = { lf: 8, lh: 8, li: 4, ri: 4 };
const HEADER = 4;

function entries(cells: Cells, at: number, what: string, d: Buffer, size: number): number {
  const n = d.readUInt16LE(2);
  if (HEADER + n * size > d.length) throw new HiveError(cells.name, what, `${n} entries run past the ${d.length}-byte cell`, at);
  return n;
}

export function readLeaf(cells: Cells, at: number): Leaf {
  const d = cells.record(at, 'subkey list', ['lf', 'lh', 'li'], HEADER);
  const kind = d.toString('latin1', 0, 2) as LeafKind;
  const size = ENTRY_SIZE[kind];
  const n = entries(cells, at, `${kind} list`, d, size);
  const keys: number[] = [];
  const hashes: number[] | undefined = kind === 'li' ? undefined : [];
  for (let i = 0; i < n; i++) {
    keys.push(cells.pointer(d.readUInt32LE(HEADER + i * size), `${kind} list`, at));
    hashes?.push(d.readUInt32LE(HEADER + i * size + 4));
  }
  return hashes ? { at, kind, keys, hashes } : { at, kind, keys };
}

/** The leaves of a subkey list, in order; `ri` is the index list when there is one. */
export function readSubkeyLists(cells: Cells, at: number): { ri?: number; leaves: Leaf[] } {
  const d = cells.record(at, 'subkey list', ['lf', 'lh', 'li', 'ri'], HEADER);
  if (d.toString('latin1', 0, 2) !== 'ri') return { leaves: [readLeaf(cells, at)] };
  const n = entries(cells, at, 'ri list', d, ENTRY_SIZE.ri);
  const seen = new Set<number>();
  const leaves: Leaf[] = [];
  for (let i = 0; i < n; i++) {
    const leaf = cells.pointer(d.readUInt32LE(HEADER + i * 4), 'ri list', at);
    if (seen.has(leaf)) throw new HiveError(cells.name, 'ri list', `names the list at byte ${leaf} twice`, at);
    seen.add(leaf);
    if (cells.data(leaf, 'subkey list').toString('latin1', 0, 2) === 'ri') {
      throw new HiveError(cells.name, 'ri list', `entry ${i} points to an ri list at byte ${leaf} (nested or cyclic index)`, at);
    }
    leaves.push(readLeaf(cells, leaf));
  }
  return { ri: at, leaves };
}
