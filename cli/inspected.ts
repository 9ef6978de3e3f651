/**
 * libguestfs's -i for the file tools: inspect the guest, mount its OS's filesystems where the
 * OS mounts them, and take Windows paths ("C:\Windows\win.ini", "D:\") on the drive they name.
 */
import type { Guest } from '../guest/guest.js';
import { inspectGuest, mountOs, onlyOs, type OsInfo } from '../inspect/inspect.js';

const inspected = new WeakMap<Guest, OsInfo>();

/** Inspect and mount the one OS found; undefined when there is none, an error when there are several. */
export async function mountInspected(guest: Guest, warn: (m: string) => void): Promise<OsInfo | undefined> {
  const { oses } = await inspectGuest(guest, { applications: false, warn });
  const os = onlyOs(oses);
  if (!os) return undefined;
  await mountOs(guest, os, warn);
  inspected.set(guest, os);
  return os;
}

/**
 * The guest path a user's path means. "X:\dir\file" goes to drive X: the root when X is the
 * system drive, else the drive's volume, mounted at "/X:" (a name Windows itself cannot use).
 * Case does not matter: NTFS and FAT look names up case-insensitively, as Windows does.
 */
export async function guestPath(guest: Guest, path: string): Promise<string> {
  const m = /^([A-Za-z]):(.*)$/s.exec(path);
  if (!m) return path;
  const os = inspected.get(guest);
  if (os?.type !== 'windows') throw new Error(`${path}: a drive letter needs an inspected Windows guest (drop -m, or use a /path)`);
  const letter = m[1]!.toUpperCase();
  const rest = `/${m[2]!.split(/[\\/]+/).filter(Boolean).join('/')}`;
  const drive = os.driveLetters.find((d) => d.letter === letter);
  const device = drive?.device ?? (letter === 'C' ? os.root : undefined);
  if (!device) throw new Error(`${path}: no drive ${letter}: in this guest (drives: ${os.driveLetters.map((d) => `${d.letter}:`).join(' ') || 'none'})`);
  if (device === os.root) return rest;
  const at = `/${letter}:`;
  if (!guest.mounts.at(at)) await guest.mount(device, at);
  return rest === '/' ? at : `${at}${rest}`;
}
