#!/usr/bin/env node
/** virt-ls: list files in a disk image without mounting it. */
import type { DirEntry, Filesystem } from '../fs/filesystem.js';
import { badName } from '../fs/names.js';
import { resolvePath } from '../fs/path.js';
import type { Guest } from '../guest/guest.js';
import { diskOptions, main, mountOptionSpecs, parseTool, UsageError } from './common.js';
import { escapeName } from './escape.js';
import { isDir, isLink, longLine, recordLine } from './listing.js';
import { guestPath } from './inspected.js';
import { withMountedGuest } from './mounts.js';
import { warn } from './open.js';
import { LineWriter } from './output.js';

const USAGE = `Usage: virt-ls -a IMAGE [-a IMAGE...] [--format=FMT] [-m DEV[:MNT[:OPTS[:FSTYPE]]]...] [-l] [-R] [-v] [-x] [-V] DIRECTORY...\n`;

const options = {
  ...diskOptions,
  ...mountOptionSpecs,
  long: { type: 'boolean', short: 'l' },
  recursive: { type: 'boolean', short: 'R' },
} as const;

main(async (argv) => {
  const parsed = parseTool(argv, options, USAGE);
  if (!parsed) return 0;
  const { values: v, positionals, disks } = parsed;
  if (positionals.length === 0) throw new UsageError('no directory given', USAGE);
  await withMountedGuest(disks, v, async (guest) => {
    const out = new LineWriter(process.stdout);
    for (const dir of positionals) await list(guest, dir, !!v.long, !!v.recursive, out);
    await out.flush();
  });
});

/** A directory's entries with valid names, in byte order; the others are skipped with a warning. */
async function entries(fs: Filesystem, ino: number, shown: string): Promise<DirEntry[]> {
  const all = await fs.readdir(ino);
  const ok = all.filter((e) => badName(e.name) === undefined);
  for (const e of all) if (badName(e.name) !== undefined) warn(`${shown || '/'}: skipping an entry with the invalid name "${escapeName(e.name)}"`);
  return ok.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

async function list(guest: Guest, dir: string, long: boolean, recursive: boolean, out: LineWriter): Promise<void> {
  const inGuest = await guestPath(guest, dir);
  const { fs, path } = guest.mounts.resolve(inGuest);
  const attr = await resolvePath(fs, path);
  if (!isDir(attr)) throw new Error(`${dir}: not a directory`);
  if (!recursive) {
    for (const e of await entries(fs, attr.ino, dir)) {
      const name = escapeName(e.name);
      const line = long ? longLine(name, e.attr, isLink(e.attr) ? escapeName(await fs.readlink(e.attr.ino)) : undefined) : name;
      if (out.line(line)) await out.flush();
    }
    return;
  }
  // Depth-first, as libguestfs walks; each directory is read once, entries carry attributes.
  // A directory another filesystem is mounted on is walked in that filesystem, as a mount shows it.
  // Every directory walked is remembered by (filesystem, inode): a directory met again (a
  // cycle in a damaged image) is reported and not walked twice.
  const base = inGuest.endsWith('/') ? inGuest.slice(0, -1) : inGuest;
  const walked = new Map<Filesystem, Set<number>>();
  const firstVisit = (dirFs: Filesystem, ino: number): boolean => {
    let set = walked.get(dirFs);
    if (!set) walked.set(dirFs, (set = new Set()));
    if (set.has(ino)) return false;
    set.add(ino);
    return true;
  };
  const walk = async (dirFs: Filesystem, ino: number, prefix: string, shown: string): Promise<void> => {
    for (const e of await entries(dirFs, ino, shown)) {
      const p = `${prefix}/${e.name}`;
      const q = `${shown}/${escapeName(e.name)}`;
      const mounted = isDir(e.attr) ? guest.mounts.at(p) : undefined;
      const [entryFs, attr] = mounted ? [mounted.fs, await mounted.fs.getattr(mounted.fs.rootIno)] : [dirFs, e.attr];
      const line = long ? recordLine(q, attr, isLink(attr) ? escapeName(await entryFs.readlink(attr.ino)) : undefined) : q;
      if (out.line(line)) await out.flush();
      if (!isDir(attr)) continue;
      if (firstVisit(entryFs, attr.ino)) await walk(entryFs, attr.ino, p, q);
      else warn(`${q}: directory inode ${attr.ino} was already listed (a directory cycle in the image); not walked again`);
    }
  };
  firstVisit(fs, attr.ino);
  await walk(fs, attr.ino, base, escapeName(base));
}
