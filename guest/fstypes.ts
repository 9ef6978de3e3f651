/**
 * Filesystem types a caller may force (libguestfs's `-m dev:mnt:opts:fstype`, mount(8)'s
 * `-t`), by the names users type, mapped to the driver that reads them.
 */
import { drivers } from '../fs/drivers.js';
import type { FsDriver } from '../fs/filesystem.js';
import { GuestError } from './errors.js';

const ALIASES: Record<string, string> = {
  ext2: 'ext4', ext3: 'ext4', ext4: 'ext4',
  ntfs: 'ntfs', ntfs3: 'ntfs',
  vfat: 'vfat', msdos: 'vfat', fat: 'vfat',
};

/** The driver for a forced type; an unknown type is refused, listing the known ones. */
export function driverForType(fstype: string): FsDriver {
  const driver = drivers.find((d) => d.type === ALIASES[fstype]);
  if (!driver) throw new GuestError('unknown-fstype', 'EINVAL', `unknown filesystem type "${fstype}" (known: ${Object.keys(ALIASES).join(', ')})`);
  return driver;
}
