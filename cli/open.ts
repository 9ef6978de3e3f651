/** Open the guest for a command and report what the volume scan warned about. */
import { basename } from 'node:path';
import { Guest, type DiskSpec, type GuestOptions } from '../guest/guest.js';

export async function openGuest(disks: DiskSpec[], opts: GuestOptions = {}): Promise<Guest> {
  const guest = await Guest.open(disks, opts);
  const prog = basename(process.argv[1] ?? 'guestkit').replace(/\.js$/, '');
  for (const w of guest.scan.warnings) process.stderr.write(`${prog}: warning: ${w}\n`);
  return guest;
}
