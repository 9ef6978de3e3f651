/** The guest's name from an image or metadata file, as libguestfs's virt-v2v derives it. */
import { basename } from 'node:path';
import { InputError } from './errors.js';

// Only suffixes usually given to disk images are removed: "fedora.x86_64" keeps its dot.
const SUFFIXES = ['.img', '.ova', '.qcow2', '.raw', '.vmdk', '.vmx', '-sda'];

export function nameFromDisk(path: string): string {
  const base = basename(path);
  const suffix = SUFFIXES.find((s) => base.endsWith(s));
  const name = suffix ? base.slice(0, -suffix.length) : base;
  if (name === '') throw new InputError(path, 'cannot name the guest after this file (use -on NAME)');
  return name;
}
