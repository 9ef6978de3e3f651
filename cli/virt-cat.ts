#!/usr/bin/env node
/** virt-cat: print files from a disk image without mounting it. */
import { once } from 'node:events';
import { FsError } from '../fs/errors.js';
import { resolvePath } from '../fs/path.js';
import { openGuest } from './open.js';
import { diskOptions, main, parse } from './common.js';
import { isDir } from './listing.js';
import { mountRequested } from './mounts.js';

const USAGE = `Usage: virt-cat -a IMAGE [-a IMAGE...] [--format=FMT] [-m DEV[:MNT[:OPTS]]...] FILE...\n`;
const CHUNK = 1 << 20;

const options = {
  ...diskOptions,
  mount: { type: 'string', short: 'm', multiple: true },
  inspector: { type: 'boolean', short: 'i' },
} as const;

main(async (argv) => {
  const { values: v, positionals, disks } = parse(argv, options);
  if (v.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (disks.length === 0) throw new Error(`you must specify at least one -a option\n${USAGE}`);
  if (positionals.length === 0) throw new Error(`no file given\n${USAGE}`);
  const guest = await openGuest(disks, { readonly: true });
  try {
    await mountRequested(guest, v.mount);
    for (const file of positionals) {
      const { fs, path } = guest.mounts.resolve(file);
      const attr = await resolvePath(fs, path);
      if (isDir(attr)) throw new FsError('EISDIR', `${file}: is a directory`);
      for (let off = 0; off < attr.size; off += CHUNK) {
        const buf = await fs.read(attr.ino, off, Math.min(CHUNK, attr.size - off));
        if (!process.stdout.write(buf)) await once(process.stdout, 'drain');
      }
    }
  } finally {
    await guest.close();
  }
});
