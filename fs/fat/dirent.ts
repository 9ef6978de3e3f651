/**
 * The 32-byte short directory entry (fatgen103 §6) and DOS date/time fields. Times are
 * local time on disk; `offsetMin` shifts them to UTC as Linux's time_offset/tz options do.
 */
import type { Timespec } from '../filesystem.js';

export const ATTR = {
  readOnly: 0x01,
  hidden: 0x02,
  system: 0x04,
  volumeId: 0x08,
  directory: 0x10,
  archive: 0x20,
  longName: 0x0f,
} as const;

/** NT reserved byte (0x0C) flags: the base name / extension is shown in lower case. */
export const CASE_LOWER_BASE = 0x08;
export const CASE_LOWER_EXT = 0x10;

export const SLOT = 32;
export const DELETED = 0xe5;

export interface ShortEntry {
  /** The 11 name bytes as stored (0x05 in byte 0 stands for 0xE5). */
  name: Buffer;
  attr: number;
  ntres: number;
  crtTenth: number;
  crtTime: number;
  crtDate: number;
  accDate: number;
  wrtTime: number;
  wrtDate: number;
  cluster: number;
  size: number;
}

const O = { name: 0, attr: 11, ntres: 12, crtTenth: 13, crtTime: 14, crtDate: 16, accDate: 18, clusHi: 20, wrtTime: 22, wrtDate: 24, clusLo: 26, size: 28 } as const;

/** `fat32` says whether the high cluster word counts (FAT12/16 may keep EA handles there). */
export function parseShort(b: Buffer, fat32: boolean): ShortEntry {
  return {
    name: Buffer.from(b.subarray(O.name, O.name + 11)),
    attr: b[O.attr]!,
    ntres: b[O.ntres]!,
    crtTenth: b[O.crtTenth]!,
    crtTime: b.readUInt16LE(O.crtTime),
    crtDate: b.readUInt16LE(O.crtDate),
    accDate: b.readUInt16LE(O.accDate),
    wrtTime: b.readUInt16LE(O.wrtTime),
    wrtDate: b.readUInt16LE(O.wrtDate),
    cluster: (fat32 ? b.readUInt16LE(O.clusHi) * 0x10000 : 0) + b.readUInt16LE(O.clusLo),
    size: b.readUInt32LE(O.size),
  };
}

export function encodeShort(e: ShortEntry): Buffer {
  const b = Buffer.alloc(SLOT);
  e.name.copy(b, O.name, 0, 11);
  b[O.attr] = e.attr;
  b[O.ntres] = e.ntres;
  b[O.crtTenth] = e.crtTenth;
  b.writeUInt16LE(e.crtTime, O.crtTime);
  b.writeUInt16LE(e.crtDate, O.crtDate);
  b.writeUInt16LE(e.accDate, O.accDate);
  b.writeUInt16LE(e.cluster >>> 16, O.clusHi);
  b.writeUInt16LE(e.wrtTime, O.wrtTime);
  b.writeUInt16LE(e.wrtDate, O.wrtDate);
  b.writeUInt16LE(e.cluster & 0xffff, O.clusLo);
  b.writeUInt32LE(e.size, O.size);
  return b;
}

/** A DOS date and time (plus 10 ms units, 0..199) as Unix time; date 0 is the epoch of FAT, 1980. */
export function fromDos(date: number, time: number, centis: number, offsetMin: number): Timespec {
  const day = date & 0x1f;
  const month = (date >> 5) & 0x0f;
  const year = 1980 + (date >> 9);
  const sec = ((time & 0x1f) * 2) + Math.floor(Math.min(centis, 199) / 100);
  const ms = Date.UTC(year, Math.max(month, 1) - 1, Math.max(day, 1), time >> 11, (time >> 5) & 0x3f, sec);
  return { sec: Math.floor(ms / 1000) - offsetMin * 60, nsec: (Math.min(centis, 199) % 100) * 10_000_000 };
}

/** Unix time as DOS date, time and 10 ms units, clamped to 1980..2107. */
export function toDos(t: Timespec, offsetMin: number): { date: number; time: number; centis: number } {
  const min = Date.UTC(1980, 0, 1) / 1000;
  const max = Date.UTC(2107, 11, 31, 23, 59, 59) / 1000;
  const local = t.sec + offsetMin * 60;
  if (local < min) return { date: (0 << 9) | (1 << 5) | 1, time: 0, centis: 0 };
  const clamped = Math.min(local, max);
  const d = new Date(clamped * 1000);
  const date = ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate();
  const time = (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1);
  const centis = local > max ? 199 : (d.getUTCSeconds() & 1) * 100 + Math.floor(t.nsec / 10_000_000);
  return { date, time, centis };
}
