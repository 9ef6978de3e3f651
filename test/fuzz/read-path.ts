/**
 * The whole read path a tool takes over one image, as the fuzzer drives it: probe the
 * format, open it, scan volumes, probe and open every filesystem, walk every directory,
 * read every file, link and extended attribute, then inspect the guest. Our own errors
 * (the image is damaged) are counted and the walk goes on; anything else is thrown.
 */
import type { BlockDevice } from '../../disk/block-device.js';
import { DiskError } from '../../disk/errors.js';
import { formats } from '../../disk/formats.js';
import { FsError } from '../../fs/errors.js';
import type { Filesystem } from '../../fs/filesystem.js';
import { GuestError } from '../../guest/errors.js';
import { Guest } from '../../guest/guest.js';
import { HiveError } from '../../inspect/hive/errors.js';
import { inspectGuest } from '../../inspect/inspect.js';

/** What one run got through, and how many of our errors it met on the way. */
export interface Walked {
  filesystems: number;
  dirs: number;
  files: number;
  bytes: number;
  oses: number;
  errors: number;
}

/** Bounds of one walk, so a claimed 2^63-byte file or a billion entries cost a fixed time. */
const MAX_ENTRIES = 20_000;
const MAX_FILE_BYTES = 8 << 20;
const CHUNK = 256 << 10;
/**
 * Names looked up per directory, spread over it. Looking up every name of a big linear
 * directory scans it once per name: half of each ext4 case went there. Spread names still
 * reach every htree leaf of the fixtures' directories, and a linear scan reads them all.
 */
const LOOKUPS_PER_DIR = 64;

/** Our error types: a damaged image must end in one of these, with a one-line message. */
export function isOurs(e: unknown): e is Error {
  return e instanceof DiskError || e instanceof FsError || e instanceof GuestError || e instanceof HiveError;
}

/**
 * A JavaScript engine error reported as text (inspection turns errors into warnings). Node's
 * range error is matched whole (`The value of "offset" is out of range.`, as a Buffer read past
 * its end throws): our own messages may say a value is out of range.
 */
const ENGINE_MESSAGE = /Cannot read propert|is not a function|is not iterable|Maximum call stack|Invalid array length|Invalid typed array length|The value of "[^"]*" is out of range|Cannot convert|Array buffer allocation failed|is not defined|undefined|NaN/;

export function engineMessage(m: string): boolean {
  return ENGINE_MESSAGE.test(m);
}

/** Run `fn`; our errors are counted (and must be one line), anything else propagates. */
async function guarded<T>(w: Walked, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (e) {
    if (!isOurs(e)) throw e;
    if (e.message.includes('\n') || e.message.length === 0) throw new Error(`error message not one line: ${JSON.stringify(e.message)}`);
    w.errors++;
    return undefined;
  }
}

/** The format driver `openDisk` would pick, on top of `file`; backing files are refused. */
export async function openFormat(file: BlockDevice): Promise<BlockDevice> {
  const head = await file.read(0n, Number(file.size < 4096n ? file.size : 4096n));
  const driver = formats.find((f) => f.probe(head))!;
  return driver.open(file, file.name, {
    openBacking: (name) => Promise.reject(new DiskError(file.name, `fuzz: backing file "${name.slice(0, 40)}" not opened`, undefined, 'EPERM')),
  });
}

export async function readEverything(file: BlockDevice): Promise<Walked> {
  const w: Walked = { filesystems: 0, dirs: 0, files: 0, bytes: 0, oses: 0, errors: 0 };
  const dev = await guarded(w, () => openFormat(file));
  if (!dev) return w;
  const guest = await guarded(w, () => Guest.openDevices([dev], { readonly: true, warn: () => undefined }));
  if (!guest) return w;
  try {
    for (const c of await guest.filesystems()) {
      if (c.error && engineMessage(c.error)) throw new Error(`${c.name}: probe failed with an engine error: ${c.error}`);
      if (c.type === 'unknown' || c.type === 'swap') continue;
      const fs = await guarded(w, () => guest.openFilesystem(c.name));
      if (!fs) continue;
      w.filesystems++;
      await walk(fs, w);
    }
    const found = await guarded(w, () => inspectGuest(guest));
    for (const m of found?.warnings ?? []) if (engineMessage(m)) throw new Error(`inspection warning from an engine error: ${m}`);
    w.oses += found?.oses.length ?? 0;
  } finally {
    await guarded(w, () => guest.close());
  }
  return w;
}

/**
 * Every directory once (by inode, so loops end); every file's extent map whole and its bytes
 * up to a bound: the first and the last chunk (the map between is what `extents` walked).
 */
async function walk(fs: Filesystem, w: Walked): Promise<void> {
  const seen = new Set<number>();
  let entries = 0;
  await guarded(w, () => fs.statfs());
  const dir = async (ino: number): Promise<void> => {
    if (seen.has(ino)) return;
    seen.add(ino);
    w.dirs++;
    const list = (await guarded(w, () => fs.readdir(ino))) ?? [];
    const every = Math.ceil(list.length / LOOKUPS_PER_DIR);
    for (const [k, e] of list.entries()) {
      if (++entries > MAX_ENTRIES) return;
      const type = e.attr.mode & 0o170000;
      if (k % every === 0 || k === list.length - 1) await guarded(w, () => fs.lookup(ino, e.name));
      for (const x of (await guarded(w, () => fs.listxattr(e.attr.ino))) ?? []) await guarded(w, () => fs.getxattr(e.attr.ino, x));
      if (type === 0o040000) await dir(e.attr.ino);
      else if (type === 0o120000) await guarded(w, () => fs.readlink(e.attr.ino));
      else if (type === 0o100000) {
        w.files++;
        await guarded(w, () => fs.extents(e.attr.ino));
        const attr = await guarded(w, () => fs.getattr(e.attr.ino));
        const end = Math.min(attr?.size ?? 0, MAX_FILE_BYTES);
        for (const at of new Set([0, Math.max(CHUNK, end - CHUNK)])) {
          if (at >= end) break;
          const got = await guarded(w, () => fs.read(e.attr.ino, at, Math.min(CHUNK, end - at)));
          if (!got) break;
          w.bytes += got.length;
        }
      }
    }
  };
  await dir(fs.rootIno);
}
