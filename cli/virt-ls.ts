#!/usr/bin/env node
/** virt-ls: list files in a disk image without mounting it. */
import { resolvePath } from '../fs/path.js';
import type { Guest } from '../guest/guest.js';
import { diskOptions, main, mountOptionSpecs, parseTool } from './common.js';
import { isDir, isLink, longLine, recordLine } from './listing.js';
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
  const { fs, path } = guest.mounts.resolve(dir);
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
  const base = dir.endsWith('/') ? dir.slice(0, -1) : dir;
  const walk = async (ino: number, prefix: string, seen: Set<number>): Promise<void> => {
    const entries = (await fs.readdir(ino)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = `${prefix}/${e.name}`;
      if (long) out.push(`${recordLine(p, e.attr, isLink(e.attr) ? await fs.readlink(e.attr.ino) : undefined)}\n`);
      else out.push(`${p}\n`);
      // A directory that appears inside itself (corrupt image) is listed once, not walked forever.
      if (isDir(e.attr) && !seen.has(e.attr.ino)) await walk(e.attr.ino, p, new Set(seen).add(e.attr.ino));
    }
  };
  await walk(attr.ino, base, new Set([attr.ino]));
}
