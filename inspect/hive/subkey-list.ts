/**
 * Subkey lists: leaves are lf (offset + 4-character hint), lh (offset + name hash) or li
 * (offsets only); an ri list points at leaves. Windows nests no deeper than one ri, so an ri
 * inside an ri (which is how a list that points at itself shows) is an error.
 */
import type { Cells } from './cells.js';
import { HiveError } from './errors.js';

export type LeafKind = 'lf' | 'lh' | 'li';

/** Bytes per entry of each list kind. */
export const ENTRY_SIZE: Record<LeafKind | 'ri', number> = { lf: 8, lh: 8, li: 4, ri: 4 };
export const LIST_HEADER = 4;

/** A leaf list read in place: entries are decoded on demand, as lists can hold thousands. */
export class Leaf {
  readonly size: number;

  constructor(
    private readonly cells: Cells,
    readonly at: number,
    readonly kind: LeafKind,
    readonly count: number,
  ) {
    this.size = ENTRY_SIZE[kind];
  }

  /** File offset of entry i's nk record. */
  key(i: number): number {
    const d = this.cells.data(this.at, `${this.kind} list`);
    return this.cells.pointer(d.readUInt32LE(LIST_HEADER + i * this.size), `${this.kind} list`, this.at);
  }

  keys(): number[] {
    return this.candidates(undefined);
  }

  /** The nk offsets that may have the name whose lh hash is `hash`: all but lh entries with another hash. */
  candidates(hash: number | undefined): number[] {
    const d = this.cells.data(this.at, `${this.kind} list`);
    const out: number[] = [];
    for (let i = 0; i < this.count; i++) {
      if (hash !== undefined && this.kind === 'lh' && d.readUInt32LE(LIST_HEADER + i * 8 + 4) !== hash) continue;
      out.push(this.cells.pointer(d.readUInt32LE(LIST_HEADER + i * this.size), `${this.kind} list`, this.at));
    }
    return out;
  }

  /** Index of the entry naming `nk`, or -1. */
  indexOf(nk: number): number {
    const d = this.cells.data(this.at, `${this.kind} list`);
    const field = nk - 4096;
    for (let i = 0; i < this.count; i++) if (d.readUInt32LE(LIST_HEADER + i * this.size) === field) return i;
    return -1;
  }
}

function entries(cells: Cells, at: number, what: string, d: Buffer, size: number): number {
  const n = d.readUInt16LE(2);
  if (LIST_HEADER + n * size > d.length) throw new HiveError(cells.name, what, `${n} entries run past the ${d.length}-byte cell`, at);
  return n;
}

export function readLeaf(cells: Cells, at: number): Leaf {
  const d = cells.record(at, 'subkey list', ['lf', 'lh', 'li'], LIST_HEADER);
  const kind = d.toString('latin1', 0, 2) as LeafKind;
  return new Leaf(cells, at, kind, entries(cells, at, `${kind} list`, d, ENTRY_SIZE[kind]));
}

/** The leaves of a subkey list, in order; `ri` is the index list when there is one. */
export function readSubkeyLists(cells: Cells, at: number): { ri?: number; leaves: Leaf[] } {
  const d = cells.record(at, 'subkey list', ['lf', 'lh', 'li', 'ri'], LIST_HEADER);
  if (d.toString('latin1', 0, 2) !== 'ri') return { leaves: [readLeaf(cells, at)] };
  const n = entries(cells, at, 'ri list', d, ENTRY_SIZE.ri);
  const seen = new Set<number>();
  const leaves: Leaf[] = [];
  for (let i = 0; i < n; i++) {
    const leaf = cells.pointer(d.readUInt32LE(LIST_HEADER + i * 4), 'ri list', at);
    if (seen.has(leaf)) throw new HiveError(cells.name, 'ri list', `names the list at byte ${leaf} twice`, at);
    seen.add(leaf);
    if (cells.data(leaf, 'subkey list').toString('latin1', 0, 2) === 'ri') {
      throw new HiveError(cells.name, 'ri list', `entry ${i} points to an ri list at byte ${leaf} (nested or cyclic index)`, at);
    }
    leaves.push(readLeaf(cells, leaf));
  }
  return { ri: at, leaves };
}
