/** Mount what -m asks for or, with no -m, what inspection finds (else the guest's only filesystem) at "/". */
import { basename } from 'node:path';
import type { DiskSpec, Guest } from '../guest/guest.js';
import { mountOptions, parseMountSpec } from './common.js';
import { mountInspected } from './inspected.js';
import { openGuest } from './open.js';

/** Open the images read-only, mount as asked, run `fn`, and always close the guest. */
export async function withMountedGuest(
  disks: DiskSpec[],
  opts: { mount?: string[]; filter?: string[] },
  fn: (guest: Guest) => Promise<void>,
): Promise<void> {
  const guest = await openGuest(disks, { readonly: true, filters: opts.filter });
  try {
    await mountRequested(guest, opts.mount);
    await fn(guest);
  } finally {
    await guest.close();
  }
}

export async function mountRequested(guest: Guest, specs: string[] | undefined): Promise<void> {
  if (specs && specs.length > 0) {
    for (const s of specs) {
      const m = parseMountSpec(s);
      await guest.mount(m.device, m.mountpoint, { options: mountOptions(m.options) });
    }
    return;
  }
  if (await mountInspected(guest, (m) => process.stderr.write(`${basename(process.argv[1] ?? 'guestkit').replace(/\.js$/, '')}: warning: ${m}\n`))) return;
  const found = (await guest.filesystems()).filter((f) => f.type !== 'unknown' && f.type !== 'swap');
  if (found.length !== 1) {
    const list = found.map((f) => `${f.name} (${f.type})`).join(', ') || 'none';
    throw new Error(`choose the filesystem to mount with -m DEVICE[:MOUNTPOINT]; filesystems found: ${list}`);
  }
  await guest.mount(found[0]!.name, '/');
}
