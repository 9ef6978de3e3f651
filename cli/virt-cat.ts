#!/usr/bin/env node
/** virt-cat: print files from a disk image without mounting it. */
import { once } from 'node:events';
import { FsError } from '../fs/errors.js';
import { resolvePath } from '../fs/path.js';
import { diskOptions, main, mountOptionSpecs, parseTool, UsageError } from './common.js';
import { isDir } from './listing.js';
import { guestPath } from './inspected.js';
import { withMountedGuest } from './mounts.js';

const USAGE = `Usage: virt-cat -a IMAGE [-a IMAGE...] [--format=FMT] [-m DEV[:MNT[:OPTS[:FSTYPE]]]...] [-v] [-x] [-V] FILE...\n`;
const CHUNK = 1 << 20;

main(async (argv) => {
  const parsed = parseTool(argv, { ...diskOptions, ...mountOptionSpecs }, USAGE);
  if (!parsed) return 0;
  const { values: v, positionals, disks } = parsed;
  if (positionals.length === 0) throw new UsageError('no file given', USAGE);
  await withMountedGuest(disks, v, async (guest) => {
    for (const file of positionals) {
      const { fs, path } = guest.mounts.resolve(await guestPath(guest, file));
      const attr = await resolvePath(fs, path);
      if (isDir(attr)) throw new FsError('EISDIR', `${file}: is a directory`);
      for (let off = 0; off < attr.size; off += CHUNK) {
        const buf = await fs.read(attr.ino, off, Math.min(CHUNK, attr.size - off));
        if (!process.stdout.write(buf)) await once(process.stdout, 'drain');
      }
    }
  });
});
