#!/usr/bin/env node
/** virt-ls: list files in a disk image without mounting it. */
import type { Filesystem } from '../fs/filesystem.js';
import { resolvePath } from '../fs/path.js';
import type { Guest } from '../guest/guest.js';
import { diskOptions, main, mountOptionSpecs, parseTool } from './common.js';
import { isDir, isLink, longLine, recordLine } from './listing.js';
import { guestPath } from './inspected.js';
import { withMountedGuest } from './mounts.js';

const USAGE = `Usage: virt-ls -a IMAGE [-a IMAGE...] [--format=FMT] [-m DEV[:MNT[:OPTS]]...] [-l] [-R] DIRECTORY...\n`;

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
  if (positionals.length === 0) throw new Error(`no directory given\n${USAGE}`);
  await withMountedGuest(disks, v, async (guest) => {
    const out: string[] = [];
    for (const dir of positionals) await list(guest, dir, !!v.long, !!v.recursive, out);
    process.stdout.write(out.join(''));
  });
});

async function list(guest: Guest, dir: string, long: boolean, recursive: boolean, out: string[]): Promise<void> {
  const inGuest = await guestPath(guest, dir);
  const { fs, path } = guest.mounts.resolve(inGuest);
  const attr = await resolvePath(fs, path);
  if (!isDir(attr)) throw new Error(`${dir}: not a directory`);
  if (!recursive) {
    const entries = (await fs.readdir(attr.ino)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (!long) out.push(`${e.name}\n`);
      else out.push(`${longLine(e.name, e.attr, isLink(e.attr) ? await fs.readlink(e.attr.ino) : undefined)}\n`);
    }
    return;
  }
  // Depth-first, as libguestfs walks; each directory is read once, entries carry attributes.
  // A directory another filesystem is mounted on is walked in that filesystem, as a mount shows it.
  const base = inGuest.endsWith('/') ? inGuest.slice(0, -1) : inGuest;
  const walk = async (dirFs: Filesystem, ino: number, prefix: string, seen: Set<number>): Promise<void> => {
    const entries = (await dirFs.readdir(ino)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = `${prefix}/${e.name}`;
      const mounted = isDir(e.attr) ? guest.mounts.at(p) : undefined;
      const [entryFs, attr] = mounted ? [mounted.fs, await mounted.fs.getattr(mounted.fs.rootIno)] : [dirFs, e.attr];
      if (long) out.push(`${recordLine(p, attr, isLink(attr) ? await entryFs.readlink(attr.ino) : undefined)}\n`);
      else out.push(`${p}\n`);
      // A directory that appears inside itself (corrupt image) is listed once, not walked forever.
      if (mounted) await walk(entryFs, attr.ino, p, new Set([attr.ino]));
      else if (isDir(attr) && !seen.has(attr.ino)) await walk(entryFs, attr.ino, p, new Set(seen).add(attr.ino));
    }
  };
  await walk(fs, attr.ino, base, new Set([attr.ino]));
}
