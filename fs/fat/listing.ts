/**
 * A loaded directory: its raw slots, its records, and the indexes lookups and new entries
 * need (folded names, short names in use, records by device offset). Kept up to date as we
 * add and remove entries, so a directory of thousands of entries is not re-read per change.
 */
import { decodeCp437 } from './cp437.js';
import { ATTR, DELETED, SLOT } from './dirent.js';
import { parseDir, type DirRecord } from './directory.js';
import { MAX_DIR_SLOTS } from './node-table.js';
import { foldName } from './shortname.js';

/** The name an entry's 8.3 alias is looked up by. */
function aliasKey(r: DirRecord): string {
  const base = decodeCp437(r.entry.name.subarray(0, 8)).trimEnd();
  const ext = decodeCp437(r.entry.name.subarray(8, 11)).trimEnd();
  return foldName(ext ? `${base}.${ext}` : base);
}

export class Listing {
  readonly records: DirRecord[];
  readonly label: string | undefined;
  subdirs = 0;
  private readonly byFold = new Map<string, DirRecord>();
  private readonly byPos = new Map<bigint, DirRecord>();
  /** Short names in use, with how many entries hold each (a damaged directory may repeat one). */
  private readonly shortNames = new Map<string, number>();

  constructor(
    /** Directory clusters; null for the fixed FAT12/16 root. */
    readonly clusters: number[] | null,
    public raw: Buffer,
    fat32: boolean,
    /** Device byte offset of slot i. */
    readonly offsetOf: (clusters: number[] | null, i: number) => bigint,
  ) {
    const parsed = parseDir(raw, fat32);
    this.records = parsed.records;
    this.label = parsed.label;
    for (const k of parsed.shortNames) this.shortNames.set(k, (this.shortNames.get(k) ?? 0) + 1);
    // Long names first, so a short alias never hides another entry's long name.
    for (const r of this.records) this.byFold.set(foldName(r.name), r);
    for (const r of this.records) this.index(r);
  }

  private index(r: DirRecord): void {
    this.byPos.set(this.offsetOf(this.clusters, r.index), r);
    if (r.entry.attr & ATTR.directory) this.subdirs++;
    const alias = aliasKey(r);
    if (!this.byFold.has(alias)) this.byFold.set(alias, r);
  }

  slotOffset(i: number): bigint {
    return this.offsetOf(this.clusters, i);
  }

  find(name: string): DirRecord | undefined {
    return this.byFold.get(foldName(name));
  }

  at(pos: bigint): DirRecord | undefined {
    return this.byPos.get(pos);
  }

  /** The record whose short entry is slot `index`. */
  record(index: number): DirRecord | undefined {
    return this.byPos.get(this.slotOffset(index));
  }

  hasShort(name11: string): boolean {
    return this.shortNames.has(name11);
  }

  /** First index of `count` free slots in a row, or -1. */
  freeRun(count: number): number {
    const total = Math.min(Math.floor(this.raw.length / SLOT), MAX_DIR_SLOTS);
    for (let i = 0, run = 0; i < total; i++) {
      const b = this.raw[i * SLOT]!;
      run = b === 0 || b === DELETED ? run + 1 : 0;
      if (run === count) return i - count + 1;
    }
    return -1;
  }

  /** Record an entry just written at slots r.first..r.index. */
  add(r: DirRecord, slots: Buffer[]): void {
    slots.forEach((s, k) => s.copy(this.raw, (r.first + k) * SLOT));
    let at = this.records.length;
    while (at > 0 && this.records[at - 1]!.index > r.index) at--;
    this.records.splice(at, 0, r);
    const k = r.entry.name.toString('latin1');
    this.shortNames.set(k, (this.shortNames.get(k) ?? 0) + 1);
    this.byFold.set(foldName(r.name), r);
    this.index(r);
  }

  /** Forget an entry whose slots were just marked deleted. */
  remove(r: DirRecord): void {
    for (let i = r.first; i <= r.index; i++) this.raw[i * SLOT] = DELETED;
    this.records.splice(this.records.indexOf(r), 1);
    const k = r.entry.name.toString('latin1');
    const left = (this.shortNames.get(k) ?? 1) - 1;
    if (left > 0) this.shortNames.set(k, left);
    else this.shortNames.delete(k);
    for (const key of [foldName(r.name), aliasKey(r)]) if (this.byFold.get(key) === r) this.byFold.delete(key);
    this.byPos.delete(this.slotOffset(r.index));
    if (r.entry.attr & ATTR.directory) this.subdirs--;
  }

  /** A zeroed cluster was appended to the directory. */
  grow(cluster: number, clusterSize: number): void {
    this.clusters!.push(cluster);
    this.raw = Buffer.concat([this.raw, Buffer.alloc(clusterSize)]);
  }
}
