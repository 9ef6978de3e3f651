/**
 * A directory's slots parsed into records: each visible entry with its long name (when a
 * valid long-name run precedes it) or its short name as Linux shows it, and the slot range
 * it occupies. Deleted slots, orphaned long-name slots, "." / ".." and the volume label are
 * not records. A 0x00 first byte ends the directory.
 */
import { ATTR, DELETED, SLOT, parseShort, type ShortEntry } from './dirent.js';
import { LfnCollector, isLfnSlot } from './lfn.js';
import { decodeCp437 } from './cp437.js';
import { displayShort } from './shortname.js';

export interface DirRecord {
  name: string;
  entry: ShortEntry;
  /** Slot index of the record's first slot (its first long-name slot, or the short entry). */
  first: number;
  /** Slot index of the short entry. */
  index: number;
}

export interface ParsedDir {
  records: DirRecord[];
  /** Volume label entry's text (root directory only). */
  label?: string;
  /** 11-byte short names in use, as latin1 strings, for alias generation. */
  shortNames: Set<string>;
}

const DOT = '.          ';
const DOTDOT = '..         ';

export function isDotName(name11: Buffer): boolean {
  const s = name11.toString('latin1');
  return s === DOT || s === DOTDOT;
}

export function parseDir(raw: Buffer, fat32: boolean): ParsedDir {
  const out: ParsedDir = { records: [], shortNames: new Set() };
  const lfn = new LfnCollector();
  const count = Math.floor(raw.length / SLOT);
  for (let i = 0; i < count; i++) {
    const b = raw.subarray(i * SLOT, (i + 1) * SLOT);
    const first = b[0]!;
    if (first === 0) break;
    if (first === DELETED) {
      lfn.reset();
      continue;
    }
    if (isLfnSlot(b)) {
      lfn.add(b, i);
      continue;
    }
    const entry = parseShort(b, fat32);
    const taken = lfn.take(entry.name);
    // A long name no path can hold ('/' inside, "." or "..") falls back to the short name.
    const long = taken && !taken.name.includes('/') && taken.name !== '.' && taken.name !== '..' ? taken : undefined;
    if (entry.attr & ATTR.volumeId) {
      if (!(entry.attr & ATTR.directory) && out.label === undefined) out.label = decodeCp437(entry.name).trimEnd();
      continue;
    }
    out.shortNames.add(entry.name.toString('latin1'));
    if (isDotName(entry.name)) continue;
    out.records.push({ name: long?.name ?? displayShort(entry.name, entry.ntres), entry, first: long?.start ?? i, index: i });
  }
  return out;
}
