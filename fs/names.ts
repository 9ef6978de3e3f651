/**
 * Names read from a directory on the image, before a driver hands them up. A name that is
 * empty, "." or "..", or holds "/" or NUL cannot name an entry in a path: handed up, it makes
 * a walker revisit a directory (or the root) forever. Drivers skip such an entry with a
 * warning that names the directory and the entry's position, as fsck flags it.
 */

/** Why `name` cannot be handed up, or undefined when it can. */
export function badName(name: string): string | undefined {
  if (name === '') return 'an empty name';
  if (name === '.' || name === '..') return `the name "${name}"`;
  if (name.includes('/')) return 'a name holding "/"';
  if (name.includes('\0')) return 'a name holding NUL';
  return undefined;
}

/**
 * True when the entry can be handed up; else warns (device, directory, where) and answers
 * false, so the caller skips it.
 */
export function nameUsable(name: string, warn: ((m: string) => void) | undefined, device: string, dir: string, where: bigint | number | undefined): boolean {
  const why = badName(name);
  if (why === undefined) return true;
  warn?.(`${device}: ${dir}: entry${where === undefined ? '' : ` at byte ${where}`} has ${why} (${JSON.stringify(name)}); skipped`);
  return false;
}
