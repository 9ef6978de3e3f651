/**
 * Where an extent file named in a descriptor lives. Names resolve against the descriptor's
 * directory, as qemu and libguestfs do. A hostile descriptor (or an OVA unpacked with
 * symlinks in it) must not reach other host files, so absolute names, names leading out of
 * that directory, symlinks leading out of it, and anything but a regular file are refused.
 * A descriptor read from a URL names URLs in the same directory, by the same rules.
 */
import { realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { DiskError } from '../errors.js';

function inside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

type Fail = (why: string) => never;

function failer(name: string, descriptor: string, where: string): Fail {
  return (why) => {
    throw new DiskError(descriptor, `${where}: extent file "${name}" ${why}`);
  };
}

/** Refuse what is no relative file name on any host: empty, NUL, absolute, a drive. */
function checkRelative(name: string, fail: Fail): void {
  if (name === '' || name.includes('\0')) fail('is not a file name');
  if (isAbsolute(name) || /^[A-Za-z]:[\\/]/.test(name) || name.startsWith('\\')) {
    fail("is an absolute path; only names relative to the descriptor's directory are allowed");
  }
}

/**
 * The URL of extent file `name` in a descriptor read from `descriptorUrl`: in the same
 * directory (or below it) on the same server, with the descriptor URL's user and query
 * (vCenter's `/folder/...?dcPath=..&dsName=..` names the datastore in the query).
 */
export function resolveExtentUrl(name: string, descriptorUrl: string, shown: string, where: string): string {
  const fail = failer(name, shown, where);
  checkRelative(name, fail);
  if (/^[a-z][a-z0-9+.-]*:/i.test(name)) fail("is a URL; only names relative to the descriptor's directory are allowed");
  if (/[?#\\]/.test(name)) fail('holds "?", "#" or "\\": not a file name in a URL');
  const base = new URL(descriptorUrl);
  const dir = base.pathname.slice(0, base.pathname.lastIndexOf('/') + 1);
  const url = new URL(name.split('/').map(encodeURIComponent).join('/'), base);
  if (url.origin !== base.origin || !url.pathname.startsWith(dir) || url.pathname === dir) fail("is outside the descriptor's directory");
  url.search = base.search;
  url.username = base.username;
  return url.href;
}

/** The host path of extent file `name`; `where` says which descriptor line names it. */
export async function resolveExtentPath(name: string, descriptorPath: string, where: string): Promise<string> {
  const fail = failer(name, descriptorPath, where);
  checkRelative(name, fail);
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
