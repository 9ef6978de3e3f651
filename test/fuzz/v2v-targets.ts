/**
 * Fuzz targets of virt-v2v's inputs: the VMX, OVF and libvirt XML readers over damaged text,
 * the ustar index over a damaged OVA (header checksums recomputed so the damage reaches the
 * fields behind them), and an OVA's manifest checked against its files. The inputs that read
 * a path get each case's bytes written to a scratch file beside the disks they name. Every
 * error must be an InputError naming the file, and so must every warning.
 */
import { copyFile, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { InputError } from '../../v2v/input/errors.js';
import { openInput, type InputKind } from '../../v2v/input/open.js';
import { parseOvf } from '../../v2v/input/ovf.js';
import { readTarIndex } from '../../v2v/input/tar-index.js';
import { metadataText } from '../../v2v/input/text-file.js';
import { domain, images as libvirtImages } from '../v2v/input/libvirt-images.js';
import { ova, ovaDir } from '../v2v/input/ova-images.js';
import { VMX, vmdks } from '../v2v/input/vmx-images.js';
import type { ImageDevice } from './image-device.js';
import { FUZZ_SCRATCH } from './scratch.js';
import type { Reached, Target } from './targets.js';

/** Warnings that must name `file`; a stray one is thrown as a finding. */
function warnings(file: string): { warn: (m: string) => void; check: () => void } {
  const stray: string[] = [];
  return {
    warn: (m) => void (m.startsWith(file) || stray.push(m)),
    check: () => {
      if (stray.length) throw new Error(`warning does not name ${file}: ${stray[0]}`);
    },
  };
}

/** Run `fn`; an InputError must name `file` (one not naming it is thrown on as a finding). */
async function namingFile(file: string, fn: (warn: (m: string) => void) => Promise<number>): Promise<Reached> {
  const w = warnings(file);
  try {
    const reached = await fn(w.warn);
    w.check();
    return { reached, errors: 0 };
  } catch (e) {
    if (e instanceof InputError && !e.message.startsWith(file)) throw new Error(`error does not name ${file}: ${e.message}`);
    throw e;
  }
}

/** A scratch directory of this worker, made ready by `prepare` (links and copies of the disks) once. */
const dirs = new Map<string, Promise<string>>();
function workDir(name: string, prepare: (dir: string) => Promise<void>): Promise<string> {
  const dir = join(FUZZ_SCRATCH, `${name}-${threadId}`);
  if (!dirs.has(name)) dirs.set(name, mkdir(dir, { recursive: true }).then(async () => (await prepare(dir), dir)));
  return dirs.get(name)!;
}

/** An input kind read from a path: the case's bytes written to `fileName` in its directory. */
async function fromFile(kind: InputKind, dir: string, fileName: string, dev: ImageDevice): Promise<Reached> {
  const file = join(dir, fileName);
  await writeFile(file, dev.bytes());
  return namingFile(file, async (warn) => {
    const source = await openInput(kind, [file], { warn });
    await source.close();
    return 1 + source.disks.length + source.cdroms.length + source.nics.length;
  });
}

/** Each reachable header's checksum recomputed over its (damaged) bytes, following the sizes. */
export function resealTar(b: Buffer): void {
  for (let at = 0; at + 512 <= b.length; ) {
    const h = b.subarray(at, at + 512);
    if (h.every((x) => x === 0)) return;
    h.fill(0x20, 148, 156);
    let sum = 0;
    for (const x of h) sum += x;
    h.write(`${sum.toString(8).padStart(6, '0')}\0`, 148, 'latin1');
    const size = parseInt(h.toString('latin1', 124, 136).replace(/\0[^]*$/, '').trim(), 8);
    if (!(size >= 0)) return;
    at += 512 + Math.ceil(size / 512) * 512;
  }
}

const load = async (name: string, path: string) => ({ name, bytes: await readFile(path) });
const DISKS = ['deb-disk1.vmdk', 'deb-disk2.vmdk'];

export const V2V_TARGETS: Target[] = [
  {
    name: 'vmx',
    text: true,
    inputs: async () => [{ name: 'web.vmx', bytes: Buffer.from(VMX) }],
    run: async (dev) => {
      const dir = await workDir('vmx', async (d) => {
        const src = await vmdks();
        for (const f of ['web.vmdk', 'web-000001.vmdk', 'data.vmdk']) await symlink(join(src, f), join(d, f));
      });
      return fromFile('vmx', dir, 'web.vmx', dev);
    },
    ours: (e) => e instanceof InputError,
  },
  {
    name: 'libvirtxml',
    text: true,
    inputs: async () => [{ name: 'guest.xml', bytes: Buffer.from(domain(await libvirtImages())) }],
    run: async (dev) => {
      const dir = await workDir('libvirtxml', async (d) => symlink(join(await libvirtImages(), 'base.qcow2'), join(d, 'base.qcow2')));
      return fromFile('libvirtxml', dir, 'guest.xml', dev);
    },
    ours: (e) => e instanceof InputError,
  },
  {
    name: 'ovf',
    text: true,
    inputs: async () => [await load('deb12.ovf', join(await ovaDir(), 'deb12.ovf'))],
    run: (dev) =>
      namingFile(dev.name, async (warn) => {
        const ovf = await parseOvf(metadataText(dev.bytes(), dev.name, 'OVF'), dev.name, warn);
        return 1 + ovf.disks.length + ovf.cdroms.length + ovf.nics.length;
      }),
    ours: (e) => e instanceof InputError,
  },
  {
    name: 'ustar',
    inputs: async () => Promise.all(['ustar', 'gnu', 'pax'].map(async (f) => load(`${f}.ova`, await ova(f)))),
    reseal: resealTar,
    run: (dev) => namingFile(dev.name, async () => (await readTarIndex(dev, dev.name)).length),
    ours: (e) => e instanceof InputError,
  },
  {
    // The manifest of an unpacked OVA (its disks and OVF beside it), checked as -i ova does.
    name: 'ova-manifest',
    text: true,
    inputs: async () => [await load('deb12.mf', join(await ovaDir(), 'deb12.mf'))],
    run: async (dev) => {
      const dir = await workDir('ova', async (d) => {
        const src = await ovaDir();
        for (const f of [...DISKS, 'deb12.ovf']) await copyFile(join(src, f), join(d, f));
      });
      await writeFile(join(dir, 'deb12.mf'), dev.bytes());
      return namingFile(dir, async (warn) => {
        const source = await openInput('ova', [dir], { warn });
        await source.close();
        return source.disks.length;
      });
    },
    ours: (e) => e instanceof InputError,
  },
];
