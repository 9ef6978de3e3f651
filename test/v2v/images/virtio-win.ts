/**
 * A fake virtio-win medium with the real layout: `DRIVER/VERSION/ARCH/driver.{sys,inf,cat,pdb}`
 * (the real directory names, mixed case: NetKVM, Balloon, 2k12R2), the by-OS copies under
 * `amd64/2k19/`, netkvm's conflicting vioprot files, fwcfg beside its qemufwcfg stub, and the
 * guest-agent MSIs. Each file's bytes are a seeded function of its path (`fakeBytes`), so
 * tests can check what landed in a guest. As a directory, and as ISOs made by xorriso.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fixture } from '../../fixtures/cache.js';
import { run } from '../../fixtures/run.js';

const DRIVERS: [dir: string, file: string, extra: string[]][] = [
  ['viostor', 'viostor', []],
  ['vioscsi', 'vioscsi', []],
  ['NetKVM', 'netkvm', ['vioprot.inf']],
  ['Balloon', 'balloon', ['blnsvr.exe']],
  ['viorng', 'viorng', []],
  ['fwcfg', 'fwcfg', []],
];
/** Version directories and the architectures each is built for (the servers are 64-bit only). */
const VERSIONS: [string, string[]][] = [['2k19', ['amd64']], ['2k12R2', ['amd64']], ['w10', ['amd64', 'x86']], ['w7', ['amd64', 'x86']]];

/** Every file of the medium, by relative path. */
export const VIRTIO_WIN_FILES: string[] = [
  'virtio-win_license.txt',
  ...DRIVERS.flatMap(([dir, file, extra]) => VERSIONS.flatMap(([v, arches]) => arches.flatMap((a) =>
    [...['sys', 'inf', 'cat', 'pdb'].map((ext) => `${dir}/${v}/${a}/${file}.${ext}`), ...extra.map((x) => `${dir}/${v}/${a}/${x}`)]))),
  'qemufwcfg/2k19/amd64/qemufwcfg.inf', 'qemufwcfg/2k19/amd64/qemufwcfg.cat',
  // The ISO's by-OS tree repeats the drivers: the same names, the same bytes.
  'amd64/2k19/viostor.sys', 'amd64/2k19/viostor.inf', 'amd64/2k19/viostor.cat',
  'guest-agent/qemu-ga-x86_64.msi', 'guest-agent/qemu-ga-i386.msi',
];

/** The bytes of a medium's file: 1–40 KiB from a hash chain of its path (by-OS copies share the by-driver bytes). */
export function fakeBytes(path: string): Buffer {
  const byOs = /^amd64\/2k19\/(viostor)\.(\w+)$/.exec(path);
  const key = byOs ? `viostor/2k19/amd64/${byOs[1]}.${byOs[2]}` : path;
  const seed = createHash('sha256').update(key).digest();
  const size = 1024 + (seed.readUInt32LE(0) % (39 * 1024));
  const out = Buffer.alloc(size);
  let block = seed;
  for (let off = 0; off < size; off += 32) {
    block = createHash('sha256').update(block).digest();
    block.copy(out, off);
  }
  Buffer.from(`fake ${key}\n`).copy(out);
  return out;
}

const RECIPE = `v1 ${VIRTIO_WIN_FILES.join(' ')} ${fakeBytes.toString()}`;

async function fill(dir: string): Promise<void> {
  for (const p of VIRTIO_WIN_FILES) {
    await mkdir(join(dir, dirname(p)), { recursive: true });
    await writeFile(join(dir, p), fakeBytes(p));
  }
}

/** The medium as a directory. */
export function virtioWinDir(): Promise<string> {
  return fixture('v2v-virtio-win-dir', RECIPE, fill);
}

export type IsoNames = 'joliet' | 'rockridge' | 'both' | 'plain';
// xorriso's mkisofs writes Rock Ridge unless told --norock.
const NAME_FLAGS: Record<IsoNames, string[]> = { joliet: ['--norock', '-J'], rockridge: ['-R'], both: ['-J', '-R'], plain: ['--norock'] };

/** The medium as an ISO made by `xorriso -as mkisofs`, with Joliet names, Rock Ridge names, both, or plain ISO 9660 names. */
export async function virtioWinIso(names: IsoNames = 'both'): Promise<string> {
  const dir = await virtioWinDir();
  const out = await fixture(`v2v-virtio-win-iso-${names}`, `${RECIPE} ${names}`, async (path) => {
    await mkdir(path, { recursive: true });
    await run('xorriso', ['-as', 'mkisofs', '-quiet', ...NAME_FLAGS[names], '-V', 'virtio-win-0.1', '-o', join(path, 'virtio-win.iso'), dir]);
  });
  return join(out, 'virtio-win.iso');
}
