/** Find FUSE mounts in /proc/self/mountinfo (read asynchronously: never a call on our own mount). */
import { readFile } from 'node:fs/promises';

export interface MountInfo {
  id: number;
  /** The mount's device as "major:minor" (a FUSE mount's backing device info is named so in /sys/class/bdi). */
  device: string;
  mountpoint: string;
  fstype: string;
  source: string;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

export async function mounts(): Promise<MountInfo[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const [left = '', right = ''] = line.split(' - ');
    const f = left.split(' ');
    const [fstype = '', source = ''] = right.split(' ');
    out.push({ id: Number(f[0]), device: f[2] ?? '', mountpoint: unescape(f[4] ?? ''), fstype, source: unescape(source) });
  }
  return out;
}

/** The topmost mount at `path` (the last listed), if any. */
export async function mountAt(path: string): Promise<MountInfo | undefined> {
  return (await mounts()).filter((m) => m.mountpoint === path).pop();
}

/** The daemon's pid, when `m` is a guestmount mount (fsname "guestmount:PID"). */
export function daemonPid(m: MountInfo): number | undefined {
  const r = /^guestmount:(\d+)$/.exec(m.source);
  return m.fstype === 'fuse.guestmount' && r ? Number(r[1]) : undefined;
}
