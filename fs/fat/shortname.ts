/**
 * Short (8.3) names: how Linux vfat shows a stored one (lower-case flags in the NT byte,
 * code page 437), how a new name is checked, and the 8.3 alias made for a long name,
 * following Linux's vfat_create_shortname: the name itself when it is a valid 8.3 name,
 * else BASE~1.EXT .. BASE~9.EXT, then BA1234~5.EXT where Linux takes the four hex digits
 * from the clock and we take them from a hash of the long name (deterministic images).
 */
import { FsError } from '../errors.js';
import { decodeCp437, encodeCp437Char } from './cp437.js';
import { CASE_LOWER_BASE, CASE_LOWER_EXT, DELETED } from './dirent.js';

const KANJI_E5 = 0x05;
const MAX_NAME_UNITS = 255;

/** The name Linux shows for a short entry without a long name. */
export function displayShort(name11: Uint8Array, ntres: number): string {
  const raw = Buffer.from(name11);
  if (raw[0] === KANJI_E5) raw[0] = DELETED;
  const lower = (s: string, on: boolean) => (on ? [...s].map((c) => (c.toLowerCase().length === 1 ? c.toLowerCase() : c)).join('') : s);
  const base = lower(decodeCp437(raw.subarray(0, 8)).trimEnd(), (ntres & CASE_LOWER_BASE) !== 0);
  const ext = lower(decodeCp437(raw.subarray(8, 11)).trimEnd(), (ntres & CASE_LOWER_EXT) !== 0);
  // A '/' (never valid in a short name) must not turn one entry into a path.
  return (ext ? `${base}.${ext}` : base).replaceAll('/', '_');
}

/** Upper-case form used to compare names, as FAT names are case-insensitive. */
export function foldName(name: string): string {
  let s = '';
  for (const c of name) {
    const u = c.toUpperCase();
    s += u.length === c.length ? u : c;
  }
  return s;
}

/** Check a new long name and return it as stored: trailing dots dropped, as Linux does. */
export function checkLongName(name: string): string {
  let n = name;
  while (n.endsWith('.')) n = n.slice(0, -1);
  if (n.length === 0 || name === '.' || name === '..') throw new FsError('EINVAL', `"${name}" is not a valid FAT name`);
  if (n.length > MAX_NAME_UNITS) throw new FsError('ENAMETOOLONG', `"${name.slice(0, 40)}…" is longer than ${MAX_NAME_UNITS} UTF-16 units`);
  for (const c of n) {
    const code = c.codePointAt(0)!;
    if (code < 0x20 || '*?<>|":\\/'.includes(c)) throw new FsError('EINVAL', `"${name}": character ${JSON.stringify(c)} is not allowed in a FAT name`);
  }
  return n;
}

interface CaseInfo {
  valid: boolean;
  lower: boolean;
  upper: boolean;
}

/** One character of a short name, as Linux's to_shortname_char: '' for characters dropped. */
function shortChar(c: string, info: CaseInfo): string {
  if (c === '.' || c === ' ') {
    info.valid = false;
    return '';
  }
  if ('+,;=[]'.includes(c)) {
    info.valid = false;
    return '_';
  }
  const b = encodeCp437Char(c);
  if (b === undefined || b === 0x7f) {
    info.valid = false;
    return '_';
  }
  if (b > 0x7f) {
    info.lower = false;
    info.upper = false;
  }
  const up = c.toUpperCase();
  const upped = up.length === 1 && encodeCp437Char(up) !== undefined ? up : c;
  if (/\p{L}/u.test(c)) {
    if (upped === c) info.lower = false;
    else info.upper = false;
  }
  return upped;
}

/** The short form of a base name or extension, at most `max` characters; `cut` if characters were left over. */
function shortPart(units: string[], max: number): { text: string; info: CaseInfo; cut: boolean } {
  const info: CaseInfo = { valid: true, lower: true, upper: true };
  let text = '';
  for (let i = 0; i < units.length; i++) {
    text += shortChar(units[i]!, info);
    if (text.length >= max) return { text, info, cut: i + 1 < units.length };
  }
  return { text, info, cut: false };
}

export interface ShortChoice {
  /** The 11 name bytes to store. */
  name11: Buffer;
  /** NT byte lower-case flags. */
  ntres: number;
  /** Whether long-name slots must be stored too. */
  needLong: boolean;
}

/**
 * The short entry name for long name `name`. `taken(name11)` says whether a short name is
 * already used in the directory. `winnt` stores names like "readme.txt" as a short name with
 * lower-case flags (Windows NT and Linux shortname=winnt); without it such names get long
 * slots (Linux's default shortname=mixed).
 */
export function chooseShortName(name: string, taken: (name11: string) => boolean, winnt: boolean): ShortChoice {
  const units = [...name];
  let dot = units.lastIndexOf('.');
  // A name that is all dots and spaces before its last dot has no extension (Win95's rule).
  if (dot >= 0 && units.slice(0, dot).every((c) => c === '.' || c === ' ')) dot = -1;
  if (dot === units.length - 1) dot = -1;
  const baseUnits = dot >= 0 ? units.slice(0, dot) : units;
  const extUnits = dot >= 0 ? units.slice(dot + 1) : [];

  const b = shortPart(baseUnits, 8);
  const e = shortPart(extUnits, 3);
  const base = b.text;
  const ext = e.text;
  if (base.length === 0) throw new FsError('EINVAL', `"${name}" has no characters usable in a short name`);
  const isShort = !b.cut && !e.cut;
  const baseInfo = b.info;
  const extInfo = e.info;
  const make = (b: string) => {
    const buf = Buffer.alloc(11, 0x20);
    const bytes = [...b.padEnd(8, ' ').slice(0, 8), ...ext.padEnd(3, ' ')].map((c) => encodeCp437Char(c) ?? 0x5f);
    buf.set(bytes);
    if (buf[0] === DELETED) buf[0] = KANJI_E5;
    return buf;
  };
  const key = (b: Buffer) => b.toString('latin1');

  if (isShort && baseInfo.valid && extInfo.valid) {
    const n11 = make(base);
    if (taken(key(n11))) throw new FsError('EEXIST', `short name of "${name}" already exists`);
    if (baseInfo.upper && extInfo.upper) return { name11: n11, ntres: 0, needLong: false };
    if (winnt && (baseInfo.upper || baseInfo.lower) && (extInfo.upper || extInfo.lower)) {
      const ntres = (!baseInfo.upper && baseInfo.lower ? CASE_LOWER_BASE : 0) | (!extInfo.upper && extInfo.lower ? CASE_LOWER_EXT : 0);
      return { name11: n11, ntres, needLong: false };
    }
    return { name11: n11, ntres: 0, needLong: true };
  }

  const b6 = base.slice(0, 6);
  for (let i = 1; i < 10; i++) {
    const n11 = make(`${b6}~${i}`);
    if (!taken(key(n11))) return { name11: n11, ntres: 0, needLong: true };
  }
  const b2 = base.slice(0, 2);
  const h = nameHash(name);
  const digit = 1 + ((h >>> 16) & 7);
  for (let i = h & 0xffff, tries = 0; tries < 0x10000; i = (i - 11) & 0xffff, tries++) {
    const n11 = make(`${b2}${i.toString(16).toUpperCase().padStart(4, '0')}~${digit}`);
    if (!taken(key(n11))) return { name11: n11, ntres: 0, needLong: true };
  }
  throw new FsError('ENOSPC', `no free 8.3 alias for "${name}"`);
}

/** FNV-1a over the UTF-16 units: a stable stand-in for the clock Linux uses. */
function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
