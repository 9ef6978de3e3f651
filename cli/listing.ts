/** Listing formats for virt-ls: plain names, `ls -la`-style lines, and the -lR record lines. */
import type { Attr } from '../fs/filesystem.js';

const S_IFMT = 0o170000;
const TYPE_CHAR: Record<number, string> = {
  0o040000: 'd', 0o120000: 'l', 0o100000: '-', 0o020000: 'c', 0o060000: 'b', 0o010000: 'p', 0o140000: 's',
};

export function typeChar(mode: number): string {
  return TYPE_CHAR[mode & S_IFMT] ?? '?';
}

export function isDir(a: Attr): boolean {
  return (a.mode & S_IFMT) === 0o040000;
}

export function isLink(a: Attr): boolean {
  return (a.mode & S_IFMT) === 0o120000;
}

/** "drwxr-xr-x" including setuid/setgid/sticky letters. */
export function modeString(mode: number): string {
  const rwx = (bits: number, special: boolean, ch: string) =>
    `${bits & 4 ? 'r' : '-'}${bits & 2 ? 'w' : '-'}${special ? (bits & 1 ? ch : ch.toUpperCase()) : bits & 1 ? 'x' : '-'}`;
  return (
    typeChar(mode) +
    rwx((mode >> 6) & 7, !!(mode & 0o4000), 's') +
    rwx((mode >> 3) & 7, !!(mode & 0o2000), 's') +
    rwx(mode & 7, !!(mode & 0o1000), 't')
  );
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `ls -la` time column (UTC): "Mar  5 14:02" within half a year of now, else "Mar  5  2019". */
export function lsTime(sec: number, now = Date.now() / 1000): string {
  const d = new Date(sec * 1000);
  const day = String(d.getUTCDate()).padStart(2);
  const recent = Math.abs(now - sec) < 182 * 86400;
  const tail = recent ? `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}` : String(d.getUTCFullYear()).padStart(5);
  return `${MONTHS[d.getUTCMonth()]} ${day} ${tail}`;
}

export function longLine(name: string, a: Attr, target?: string): string {
  const size = (a.mode & S_IFMT) === 0o020000 || (a.mode & S_IFMT) === 0o060000 ? `${a.rdev >>> 8}, ${a.rdev & 0xff}` : String(a.size);
  return `${modeString(a.mode)} ${String(a.nlink).padStart(2)} ${a.uid} ${a.gid} ${size.padStart(8)} ${lsTime(a.mtime.sec)} ${name}${target === undefined ? '' : ` -> ${target}`}`;
}

/** The -lR record line libguestfs prints: type, octal permissions, size, path. */
export function recordLine(path: string, a: Attr, target?: string): string {
  const perm = (a.mode & 0o7777).toString(8).padStart(4, '0');
  return `${typeChar(a.mode)} ${perm} ${String(a.size).padStart(10)} ${path}${target === undefined ? '' : ` -> ${target}`}`;
}
