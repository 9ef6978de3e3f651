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
  // A dirty hive's changes wait in .LOG1/.LOG2, which we do not replay: Hive refuses to write it.
  return { hive, root: `HKLM\\${name}`, path };
}

/** Write the hive back when anything was changed in it. */
export async function saveHive(files: GuestFiles, h: GuestHive, changed: boolean): Promise<void> {
  if (changed) await files.write(h.path, h.hive.toBuffer());
}
