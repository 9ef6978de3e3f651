/** Open an image file as a BlockDevice: probe (or force) its format, follow backing chains. */
import { dirname, isAbsolute, resolve } from 'node:path';
import type { BlockDevice } from './block-device.js';
import { openJsonBacking } from './backing.js';
import { DiskError, FormatNeededError } from './errors.js';
import type { OpenOptions } from './format.js';
import { formats } from './formats.js';
import { RawFile } from './raw.js';

const PROBE_BYTES = 4096;
const MAX_CHAIN = 16;

export async function openDisk(path: string, opts: OpenOptions = {}): Promise<BlockDevice> {
  const chain = opts.chain ?? [];
  if (chain.includes(path)) throw new DiskError(path, `backing chain loops: ${[...chain, path].join(' -> ')}`);
  if (chain.length >= MAX_CHAIN) throw new DiskError(path, `backing chain deeper than ${MAX_CHAIN} images`);
  const file = await RawFile.open(path, opts.writable ?? false);
  try {
    const driver = opts.format ? formats.find((f) => f.name === opts.format) : await probe(file);
    if (!driver) throw new DiskError(path, `unknown format "${opts.format}" (known: ${formats.map((f) => f.name).join(', ')})`);
    return await driver.open(file, path, {
      ...opts,
      chain: [...chain, path],
      openBacking: opts.openBacking ?? (opts.format ? (name, from, format) => openBackingFile(name, from, format, [...chain, path]) : refuseBacking(driver.name)),
    });
  } catch (e) {
    await file.close();
    throw e;
  }
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
      new FormatNeededError(fromImage, `names a backing file ("${name.slice(0, 200)}"), but its format was only probed: backing files are opened only when the format (${format}) is given`, format),
    );
}

/** Backing files are always opened read-only; relative names resolve next to the image. */
function openBackingFile(name: string, fromImage: string, format: string | undefined, chain: string[]): Promise<BlockDevice> {
  if (name.startsWith('json:')) return openJsonBacking(name, fromImage);
  const path = isAbsolute(name) ? name : resolve(dirname(fromImage), name);
  return openDisk(path, { format, writable: false, chain });
}
