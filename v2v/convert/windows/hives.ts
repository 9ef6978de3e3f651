/** The guest's SYSTEM and SOFTWARE hives: read through GuestFiles, changed in memory, written back once. */
import { Hive } from '../../../inspect/hive/hive.js';
import type { GuestFiles } from '../../guest-files.js';
import type { NamedHive } from './registry.js';

export interface GuestHive extends NamedHive {
  /** Its path in the guest ("/Windows/System32/config/SYSTEM"). */
  path: string;
}

export async function loadHive(files: GuestFiles, systemroot: string, name: 'SYSTEM' | 'SOFTWARE'): Promise<GuestHive> {
  const path = `${systemroot}/System32/config/${name}`;
  const hive = Hive.parse(await files.read(path), path);
  // Its changes wait in .LOG1/.LOG2, which are not replayed: refused before anything is written.
  if (hive.dirty) throw new Error(`${path}: the hive has changes waiting in its .LOG1/.LOG2 files (Windows was not shut down cleanly): boot the guest and shut it down cleanly, then convert again`);
  return { hive, root: `HKLM\\${name}`, path };
}

/** Write the hive back when anything was changed in it. */
export async function saveHive(files: GuestFiles, h: GuestHive, changed: boolean): Promise<void> {
  if (changed) await files.write(h.path, h.hive.toBuffer());
}
