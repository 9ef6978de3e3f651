/**
 * Where an extent file named in a descriptor lives. Names resolve against the descriptor's
 * directory, as qemu and libguestfs do. A hostile descriptor (or an OVA unpacked with
 * symlinks in it) must not reach other host files, so absolute names, names leading out of
 * that directory, symlinks leading out of it, and anything but a regular file are refused.
 */
import { realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { DiskError } from '../errors.js';

function inside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/** The host path of extent file `name`; `where` says which descriptor line names it. */
export async function resolveExtentPath(name: string, descriptorPath: string, where: string): Promise<string> {
  const fail = (why: string): never => {
    throw new DiskError(descriptorPath, `${where}: extent file "${name}" ${why}`);
  };
  if (name === '' || name.includes('\0')) fail('is not a file name');
  if (isAbsolute(name) || /^[A-Za-z]:[\\/]/.test(name) || name.startsWith('\\')) {
    fail("is an absolute path; only names relative to the descriptor's directory are allowed");
  }
  const dir = resolve(dirname(descriptorPath));
  const path = resolve(dir, name);
  if (!inside(dir, path)) fail("is outside the descriptor's directory");
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    return path; // missing: opening it reports that
  }
  if (!inside(await realpath(dir), real)) fail(`leads outside the descriptor's directory (to ${real})`);
  if (!(await stat(real)).isFile()) fail('is not a regular file');
  return path;
}
