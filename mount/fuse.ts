/**
 * fuse-native, loaded only when a mount is made (it loads libfuse). The command bundles carry
 * its JavaScript, so their code cache covers it too (scripts/bundle.mjs).
 */
import { writeFile } from 'node:fs';
import { promisify } from 'node:util';
import type Fuse from 'fuse-native';
import type { FuseOps } from 'fuse-native';
import { mountAt, type MountInfo } from './mountinfo.js';

/** libfuse 2 takes requests up to 128 KiB; ask for that much in both directions. */
export const MAX_IO = 128 * 1024;
/**
 * The kernel's read-ahead window for the mount, in KiB. FUSE's INIT cannot raise it past the
 * kernel's default of 128 KiB, which keeps one request in flight, so each 128 KiB read waits
 * out a full round trip through the daemon; with 1 MiB the kernel sends several at once and
 * the daemon answers them back to back. Only root may set it (sysfs).
 */
const READAHEAD_KB = 1024;

export interface FuseSettings {
  readonly: boolean;
  /** Seconds the kernel may cache attributes and names (--dir-cache-timeout). */
  cacheTimeout: number;
  /** Shown by df and in mountinfo; guestunmount reads the daemon's pid from it. */
  fsname: string;
  /** -o options passed through to libfuse (allow_other, default_permissions, uid=…). */
  extra: string[];
}

export function libfuseOptions(s: FuseSettings): string[] {
  const t = String(s.cacheTimeout);
  const o = [`fsname=${s.fsname}`, 'subtype=guestmount', `max_read=${MAX_IO}`, 'big_writes', `max_write=${MAX_IO}`,
    `max_readahead=${MAX_IO}`, `entry_timeout=${t}`, `attr_timeout=${t}`, `negative_timeout=${t}`,
    // Our inode numbers, not libfuse's per-path ones: loops and hard links show (inode-numbers.ts).
    'use_ino'];
  // Nothing else changes a read-only image, so the kernel may keep file pages across opens.
  if (s.readonly) o.push('ro', 'kernel_cache');
  return [...o, ...s.extra];
}

/**
 * Mount `ops` at `mountpoint`; resolves once the kernel has sent INIT (the mount is usable),
 * with the mount as mountinfo lists it.
 */
export async function fuseMount(mountpoint: string, ops: FuseOps, settings: FuseSettings): Promise<{ fuse: Fuse; mount: MountInfo }> {
  const { default: FuseClass } = await import('fuse-native') as { default: typeof Fuse };
  // Slow (remote) reads must never turn into ETIMEDOUT.
  const fuse = new FuseClass(mountpoint, ops, { timeout: false });
  const opts = `-o${libfuseOptions(settings).join(',')}`;
  if (opts.length >= 1024) throw new Error(`FUSE options too long (${opts.length} characters, fuse-native takes under 1024)`);
  fuse._fuseOptions = () => opts;
  await new Promise<void>((resolve, reject) => fuse.mount((err) => (err ? reject(new Error(`${mountpoint}: cannot mount: ${err.message}`)) : resolve())));
  const mount = await mountAt(mountpoint);
  if (!mount) throw new Error(`${mountpoint}: mounted, but not in /proc/self/mountinfo`);
  await widenReadahead(mount);
  return { fuse, mount };
}

/** Raise the mount's read-ahead window where we may (root); elsewhere it stays the kernel's. */
async function widenReadahead(m: MountInfo): Promise<void> {
  if (m.fstype.startsWith('fuse')) await promisify(writeFile)(`/sys/class/bdi/${m.device}/read_ahead_kb`, String(READAHEAD_KB)).catch(() => undefined);
}
