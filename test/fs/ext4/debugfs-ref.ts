/** What debugfs says about an image: `stat`, `ea_list` and `ls` output parsed into records. */
import { run } from '../../fixtures/run.js';

export interface RefStat {
  ino: number;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  links: number;
  blockcount: number;
  flags: number;
  /** Each time as seconds since the epoch (decoded as debugfs decodes it) and the raw extra field. */
  times: Record<string, { base: number; extra: number | null }>;
  fastLink?: string;
  device?: { major: number; minor: number };
  xattrs: Map<string, Buffer>;
}

/** Run debugfs commands in one process; returns the output of each command. */
export async function debugfsBatch(image: string, cmds: string[]): Promise<string[]> {
  const out = await run('debugfs', ['-f', '-', image], { input: cmds.join('\n') + '\n' });
  const parts = out.split(/^debugfs: .*$/m);
  return parts.slice(1);
}

function parseXattrValue(v: string): Buffer {
  if (v.startsWith('"')) return Buffer.from(JSON.parse(v.replace(/\\([0-7]{3})/g, (_, o: string) => `\\u00${parseInt(o, 8).toString(16).padStart(2, '0')}`)) as string, 'latin1');
  return Buffer.from(v.trim().split(/\s+/).join(''), 'hex');
}

export function parseStat(text: string): RefStat {
  const num = (re: RegExp): number => {
    const m = re.exec(text);
    if (!m) throw new Error(`debugfs stat: no ${re} in ${text}`);
    return Number(m[1]);
  };
  const times: RefStat['times'] = {};
  for (const m of text.matchAll(/^\s*(ctime|atime|mtime|crtime): 0x([0-9a-f]+)(?::([0-9a-f]+))?/gm)) {
    times[m[1]!] = { base: parseInt(m[2]!, 16) | 0, extra: m[3] ? parseInt(m[3], 16) : null };
  }
  const xattrs = new Map<string, Buffer>();
  const ea = /^Extended attributes:\n((?: {2}.*\n)*)/m.exec(text);
  for (const line of ea?.[1]?.split('\n') ?? []) {
    const m = /^ {2}(\S+) \((\d+)\)(?: = (.*))?$/.exec(line);
    if (m) xattrs.set(m[1]!, m[3] === undefined ? Buffer.alloc(0) : parseXattrValue(m[3]));
  }
  const fast = /^Fast link dest: "(.*)"$/m.exec(text);
  const dev = /Device major\/minor number: (\d+):(\d+)/.exec(text);
  return {
    ino: num(/Inode: (\d+)/),
    type: /Type: ([A-Za-z ]+?)\s{2,}/.exec(text)?.[1] ?? '',
    mode: parseInt(/Mode:\s+(\d+)/.exec(text)?.[1] ?? 'x', 8),
    uid: num(/User:\s+(\d+)/),
    gid: num(/Group:\s+(\d+)/),
    size: num(/Size: (\d+)/),
    links: num(/Links: (\d+)/),
    blockcount: num(/Blockcount: (\d+)/),
    flags: parseInt(/Flags: 0x([0-9a-f]+)/.exec(text)?.[1] ?? '0', 16),
    times,
    ...(fast ? { fastLink: fast[1]! } : {}),
    ...(dev ? { device: { major: Number(dev[1]), minor: Number(dev[2]) } } : {}),
    xattrs,
  };
}

/** Decode a debugfs time the way the kernel does: signed base plus epoch bits. */
export function refTime(t: { base: number; extra: number | null }): { sec: number; nsec: number } {
  if (t.extra === null) return { sec: t.base, nsec: 0 };
  return { sec: t.base + (t.extra & 3) * 2 ** 32, nsec: t.extra >>> 2 };
}

/** `ls -l` of a directory: name → inode. */
export function parseLs(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s+\d+\s+\(\d+\)\s+\d+\s+\d+\s+\d+\s+\S+\s+\S+\s(.*)$/.exec(line);
    if (m) out.set(m[2]!, Number(m[1]));
  }
  return out;
}
