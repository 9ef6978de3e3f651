/** Open an image file as a BlockDevice: probe (or force) its format, follow backing chains. */
import { dirname, isAbsolute, resolve } from 'node:path';
import type { BlockDevice } from './block-device.js';
import { openJsonBacking, shownDiskName } from './backing.js';
import { DiskError, FormatNeededError } from './errors.js';
import type { OpenOptions } from './format.js';
import { formats } from './formats.js';
import { RawFile } from './raw.js';

const PROBE_BYTES = 4096;
const MAX_CHAIN = 16;

/** Opens the bytes of a `scheme://` name (http, https): `remote/` registers these. */
export type SourceOpener = (name: string, writable: boolean) => Promise<BlockDevice>;

const sourceOpeners = new Map<string, SourceOpener>();

export function registerSourceOpener(scheme: string, opener: SourceOpener): void {
  sourceOpeners.set(scheme.toLowerCase(), opener);
}

/** The scheme of a `scheme://...` name, or undefined for a host path. */
function schemeOf(name: string): string | undefined {
  return /^([a-z][a-z0-9+.-]*):\/\//i.exec(name)?.[1]?.toLowerCase();
}

/** A host file, or a URL through its registered opener. */
function openSource(path: string, writable: boolean): Promise<BlockDevice> {
  const scheme = schemeOf(path);
  if (scheme === undefined) return RawFile.open(path, writable);
  const opener = sourceOpeners.get(scheme);
  if (!opener) return Promise.reject(new DiskError(shownDiskName(path), `no opener for ${scheme}:// names`, undefined, 'ENOTSUP'));
  return opener(path, writable);
}

export async function openDisk(path: string, opts: OpenOptions = {}): Promise<BlockDevice> {
  const chain = opts.chain ?? [];
  if (chain.includes(path)) throw new DiskError(path, `backing chain loops: ${[...chain, path].join(' -> ')}`);
  if (chain.length >= MAX_CHAIN) throw new DiskError(path, `backing chain deeper than ${MAX_CHAIN} images`);
  const file = await openSource(path, opts.writable ?? false);
  try {
    const driver = opts.format ? formats.find((f) => f.name === opts.format) : await probe(file);
    if (!driver) throw new DiskError(file.name, `unknown format "${opts.format}" (known: ${formats.map((f) => f.name).join(', ')})`);
    // A URL is shown as its source names it: without the user (remote/ redacts credentials).
    const shown = schemeOf(path) === undefined ? path : file.name;
    return await driver.open(file, shown, {
      ...opts,
      url: schemeOf(path) === undefined ? undefined : path,
      chain: [...chain, path],
      openBacking: opts.openBacking ?? (opts.format ? (name, from, format) => openBackingFile(name, from, format, [...chain, path]) : refuseBacking(driver.name)),
    });
  } catch (e) {
    await file.close();
    throw e;
  }
}

/**
 * Open a format over bytes already open, such as a disk stored inside an OVA (a window of the
 * tar): probed or forced like `openDisk`, read-only, and no file it names is opened, since
 * names inside an archive do not lead to host files.
 */
export async function openDiskOn(file: BlockDevice, name: string, opts: { format?: string } = {}): Promise<BlockDevice> {
  const driver = opts.format ? formats.find((f) => f.name === opts.format) : await probe(file);
  if (!driver) throw new DiskError(name, `unknown format "${opts.format}" (known: ${formats.map((f) => f.name).join(', ')})`);
  return driver.open(file, name, {
    format: opts.format,
    writable: false,
    chain: [name],
    openBacking: (backing, from) => Promise.reject(new DiskError(from, `names a backing file ("${shownDiskName(backing)}"), which is not opened for a disk inside another file`, undefined, 'EPERM')),
  });
}

async function probe(file: BlockDevice) {
  const n = Number(file.size < BigInt(PROBE_BYTES) ? file.size : BigInt(PROBE_BYTES));
  const head = await file.read(0n, n);
  return formats.find((f) => f.probe(head));
}

/**
 * An image whose format was only probed opens no host file it names: a raw disk whose guest
 * wrote a qcow2 or VMDK header could otherwise pull any host file into view.
 */
function refuseBacking(format: string): NonNullable<OpenOptions['openBacking']> {
  return (name, fromImage) =>
    Promise.reject(
      new FormatNeededError(fromImage, `names a backing file ("${shownDiskName(name)}"), but its format was only probed: backing files are opened only when the format (${format}) is given`, format),
    );
}

/** Backing files are always opened read-only; relative names resolve next to the image. */
function openBackingFile(name: string, fromImage: string, format: string | undefined, chain: string[]): Promise<BlockDevice> {
  if (name.startsWith('json:')) return openJsonBacking(name, fromImage);
  // A relative name next to a remote image is a URL beside it.
  const path = schemeOf(fromImage) !== undefined && schemeOf(name) === undefined ? new URL(name, fromImage).href : isAbsolute(name) || schemeOf(name) ? name : resolve(dirname(fromImage), name);
  return openDisk(path, { format, writable: false, chain });
}
