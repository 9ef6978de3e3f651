/** Mount what -m asks for or, with no -m, what inspection finds (else the guest's only filesystem) at "/". */
import type { DiskSpec, Guest } from '../guest/guest.js';
import { type CommonValues, mountOptions, parseMountSpec } from './common.js';
import { mountInspected } from './inspected.js';
import { openGuest, warn } from './open.js';

/** Open the images read-only, mount as asked, run `fn`, and always close the guest. */
export async function withMountedGuest(disks: DiskSpec[], v: CommonValues, fn: (guest: Guest) => Promise<void>): Promise<void> {
  const guest = await openGuest(disks, v);
  try {
    await mountRequested(guest, v.mount);
    await fn(guest);
  } finally {
    await guest.close();
  }
}

export async function mountRequested(guest: Guest, specs: string[] | undefined): Promise<void> {
  if (specs && specs.length > 0) {
    for (const s of specs) {
      const m = parseMountSpec(s);
      await guest.mount(m.device, m.mountpoint, { options: mountOptions(m.options), fstype: m.fstype });
    }
    return;
  }
  if (await mountInspected(guest, warn)) return;
  const found = (await guest.filesystems()).filter((f) => f.type !== 'unknown' && f.type !== 'swap');
  if (found.length !== 1) {
    const list = found.map((f) => `${f.name} (${f.type})`).join(', ') || 'none';
    throw new Error(`choose the filesystem to mount with -m DEVICE[:MOUNTPOINT]; filesystems found: ${list}`);
  }
  await guest.mount(found[0]!.name, '/');
}
