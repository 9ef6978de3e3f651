/**
 * FAT inode numbers and the bounded table of nodes numbered so far.
 *
 * An entry's number says where it is: its directory's first cluster (0 for the FAT12/16
 * root) and the slot index of its short entry, `(cluster + 1) * 65536 + index` (a directory
 * holds at most 65536 slots). From that place the node can be found again after the table
 * dropped it: the directory by its first cluster (its "." and ".." slots lead up to the root,
 * as Linux's vfat finds a parent), then the record at that slot. So numbers are the same on
 * every open of an unchanged volume, and the table can be bounded by the one LRU.
 *
 * Renames: an entry keeps its number for the rest of the mount, so its number and its new
 * place are remembered both ways; a new entry whose own number is still held by such a moved
 * entry gets a spare number above every place's. These maps grow with renames, not with walks.
 */
import { Lru } from '../../disk/lru.js';
import type { ShortEntry } from './dirent.js';

export const ROOT = 1;
/** Slots a directory may hold, and so the stride of the numbering. */
export const MAX_DIR_SLOTS = 65536;

export interface Node {
  ino: number;
  parent: number;
  /** Device byte offset of the short entry (root: -1). */
  pos: bigint;
  entry: ShortEntry;
  name: string;
}

/** Where an entry sits: its directory's first cluster (0: the FAT12/16 root) and slot. */
export interface Place {
  dirCluster: number;
  index: number;
}

const placeNumber = (p: Place): number => (p.dirCluster + 1) * MAX_DIR_SLOTS + p.index;

export class NodeTable {
  private readonly recent: Lru<number, Node>;
  /** Numbers whose entry moved (renamed): number → the number of its place now. */
  private readonly movedTo = new Map<number, number>();
  /** Places whose entry is not numbered after the place: place number → entry number. */
  private readonly numberAt = new Map<number, number>();
  private nextSpare: number;

  constructor(
    readonly root: Node,
    maxNodes: number,
    clusterMax: number,
  ) {
    this.recent = new Lru(maxNodes);
    this.nextSpare = placeNumber({ dirCluster: clusterMax + 1, index: 0 });
  }

  /** Nodes held now (the root is not counted: it is always there). */
  get size(): number {
    return this.recent.size;
  }

  /** The node numbered `ino` if the table holds it. */
  get(ino: number): Node | undefined {
    return ino === ROOT ? this.root : this.recent.get(ino);
  }

  /** The same, without marking it used (for messages). */
  peek(ino: number): Node | undefined {
    return ino === ROOT ? this.root : this.recent.peek(ino);
  }

  /** The number of the entry at `place`, given one on first sight. */
  numberOf(place: Place): number {
    const at = placeNumber(place);
    const moved = this.numberAt.get(at);
    if (moved !== undefined) return moved;
    if (!this.movedTo.has(at)) return at;
    // Its own number is held by an entry moved elsewhere.
    const spare = this.nextSpare++;
    this.numberAt.set(at, spare);
    this.movedTo.set(spare, at);
    return spare;
  }

  /** Where the entry numbered `ino` is, or undefined if no entry can hold that number. */
  placeOf(ino: number): Place | undefined {
    const moved = this.movedTo.get(ino);
    const at = moved ?? ino;
    if (moved === undefined && this.numberAt.has(at)) return undefined;
    const dirCluster = Math.floor(at / MAX_DIR_SLOTS) - 1;
    if (!Number.isSafeInteger(at) || dirCluster < 0) return undefined;
    return { dirCluster, index: at % MAX_DIR_SLOTS };
  }

  add(n: Node): void {
    this.recent.set(n.ino, n);
  }

  /** `n` now sits at `to` (a rename), keeping its number. */
  move(n: Node, from: Place, to: Place): void {
    this.unplace(n.ino, from);
    const at = placeNumber(to);
    if (at !== n.ino) {
      this.movedTo.set(n.ino, at);
      this.numberAt.set(at, n.ino);
    }
  }

  /** The entry at `place` is gone. */
  remove(n: Node, place: Place): void {
    this.unplace(n.ino, place);
    this.recent.delete(n.ino);
  }

  private unplace(ino: number, place: Place): void {
    const at = placeNumber(place);
    if (this.numberAt.get(at) === ino) this.numberAt.delete(at);
    this.movedTo.delete(ino);
  }
}
