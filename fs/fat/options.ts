/**
 * Mount options as Linux vfat takes them: uid=, gid=, umask=, fmask=, dmask= (octal),
 * time_offset= (minutes east of UTC that on-disk local times are in; default 0 = UTC) and
 * shortname= (winnt: names like "readme.txt" are stored as short names with lower-case
 * flags; mixed/win95: they get a long name too, Linux's default).
 */
import { FsError } from '../errors.js';

export interface FatOptions {
  uid: number;
  gid: number;
  fmask: number;
  dmask: number;
  offsetMin: number;
  winnt: boolean;
}

const DEFAULT_UMASK = 0o022;

export function parseOptions(opts: Record<string, string | true> = {}): FatOptions {
  const num = (key: string, base: number, max: number): number | undefined => {
    const v = opts[key];
    if (v === undefined) return undefined;
    const n = typeof v === 'string' && /^-?[0-9a-fA-F]+$/.test(v) ? parseInt(v, base) : NaN;
    if (!Number.isInteger(n) || Math.abs(n) > max) throw new FsError('EINVAL', `vfat option ${key}=${String(v)} is not valid`);
    return n;
  };
  const umask = num('umask', 8, 0o777) ?? DEFAULT_UMASK;
  const shortname = opts.shortname ?? 'winnt';
  if (!['winnt', 'mixed', 'win95', 'lower'].includes(String(shortname))) {
    throw new FsError('EINVAL', `vfat option shortname=${String(shortname)} is not lower, win95, winnt or mixed`);
  }
  return {
    uid: num('uid', 10, 0xffffffff) ?? 0,
    gid: num('gid', 10, 0xffffffff) ?? 0,
    fmask: num('fmask', 8, 0o777) ?? umask,
    dmask: num('dmask', 8, 0o777) ?? umask,
    offsetMin: num('time_offset', 10, 24 * 60) ?? 0,
    winnt: shortname === 'winnt' || shortname === 'lower',
  };
}
