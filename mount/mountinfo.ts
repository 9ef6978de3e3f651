/** Find FUSE mounts in /proc/self/mountinfo (read asynchronously: never a call on our own mount). */
import { close, open, read, readFile } from 'node:fs';
import { promisify } from 'node:util';

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

const MOUNTINFO = '/proc/self/mountinfo';
const readFileAsync = promisify(readFile);
const openAsync = promisify(open);
const readAsync = promisify(read);
const closeAsync = promisify(close);

function parseLine(line: string): MountInfo {
  const [left = '', right = ''] = line.split(' - ');
  const f = left.split(' ');
  const [fstype = '', source = ''] = right.split(' ');
  return { id: Number(f[0]), device: f[2] ?? '', mountpoint: unescape(f[4] ?? ''), fstype, source: unescape(source) };
}

export async function mounts(): Promise<MountInfo[]> {
  const text = await readFileAsync(MOUNTINFO, 'utf8');
  return text.split('\n').filter((line) => line).map(parseLine);
}

/**
 * Whether one mount is still there, for a daemon that asks ten times a second: mountinfo stays
 * open and is read again from its start (the kernel regenerates it on each read at offset 0)
 * into one buffer, and only the mount's own line is parsed. A fresh readFile and a parse of
 * every line each time was most of an idle daemon's 2% of a core.
 */
export class MountWatch {
  private buf = Buffer.alloc(16 * 1024);
  private readonly key: Buffer;

  private constructor(private readonly fd: number, private readonly mount: MountInfo) {
    this.key = Buffer.from(`\n${mount.id} `);
  }

  static async open(mount: MountInfo): Promise<MountWatch> {
    return new MountWatch(await openAsync(MOUNTINFO, 'r'), mount);
  }

  async present(): Promise<boolean> {
    let n: number;
    while ((n = (await readAsync(this.fd, this.buf, 1, this.buf.length - 1, 0)).bytesRead) === this.buf.length - 1) {
      this.buf = Buffer.alloc(this.buf.length * 2);
    }
    // A newline before the first line, so every line starts after one.
    this.buf[0] = 0x0a;
    const text = this.buf.subarray(0, n + 1);
    const at = text.indexOf(this.key);
    if (at < 0) return false;
    const end = text.indexOf(0x0a, at + 1);
    return parseLine(text.toString('utf8', at + 1, end < 0 ? text.length : end)).mountpoint === this.mount.mountpoint;
  }

  close(): Promise<void> {
    return closeAsync(this.fd);
  }
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
