/**
 * Where an extent file named in a descriptor lives. Names resolve against the descriptor's
 * directory, as qemu and libguestfs do; a hostile descriptor must not reach other host files,
 * so absolute names and names leading out of that directory are refused.
 */
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { DiskError } from '../errors.js';

export function resolveExtentPath(name: string, descriptorPath: string, where: string): string {
  if (name === '' || name.includes('\0')) throw new DiskError(descriptorPath, `${where}: extent file name ${JSON.stringify(name)} is not a file name`);
  if (isAbsolute(name) || /^[A-Za-z]:[\\/]/.test(name) || name.startsWith('\\')) {
    throw new DiskError(descriptorPath, `${where}: extent file "${name}" is an absolute path; only names relative to the descriptor's directory are allowed`);
  }
  const dir = resolve(dirname(descriptorPath));
  const path = resolve(dir, name);
  const rel = relative(dir, path);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new DiskError(descriptorPath, `${where}: extent file "${name}" is outside the descriptor's directory`);
  }
  return path;
}
