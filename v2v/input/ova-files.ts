/**
 * The files of an OVA, whether a tar read in place (each member a window of the tar file) or
 * an unpacked directory. Names are the member names ("disk1.vmdk", "sub/vm.ovf"); a name
 * leading out of the directory is refused.
 */
import { readdir, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import type { BlockDevice } from '../../disk/block-device.js';
import { RawFile } from '../../disk/raw.js';
import { WindowDevice } from '../../disk/window.js';
import { InputError } from './errors.js';
import { GZIP_MAGIC, gunzipTo, TempDir } from './gunzip.js';
import { readTarIndex, type TarEntry } from './tar-index.js';

const MAX_DIR_FILES = 10_000;
/** Packings refused (a gzip-compressed OVA is unpacked to a temporary tar instead). */
const MAGICS: [Buffer, string][] = [
  [Buffer.from('PK\x03\x04', 'latin1'), 'zip'],
  [Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a]), 'xz'],
];

export interface OvaFiles {
  /** The OVA as the user named it. */
  path: string;
  /** Where gzip-compressed members are unpacked; removed by close(). */
  temp: TempDir;
  names: string[];
  /** A member's bytes, or undefined when there is no such member; the caller closes it. */
  open(name: string): Promise<BlockDevice | undefined>;
  /** A host path for a member of a directory OVA (its VMDK may name files beside it). */
  hostPath(name: string): string | undefined;
  close(): Promise<void>;
}

export async function openOvaFiles(path: string): Promise<OvaFiles> {
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    throw new InputError(path, `cannot open the OVA: ${(e as Error).message}`);
  }
  return st.isDirectory() ? directoryFiles(path) : tarFiles(path);
}

async function tarFiles(path: string): Promise<OvaFiles> {
  const temp = new TempDir();
  let tar = await RawFile.open(path);
  try {
    const head = await tar.read(0n, tar.size < 8n ? Number(tar.size) : 8);
    const packed = MAGICS.find(([m]) => head.subarray(0, m.length).equals(m));
    if (packed) throw new InputError(path, `the OVA is ${packed[1]}-compressed: unpack it (to a tar or a directory) and give that`);
    if (head.subarray(0, 2).equals(GZIP_MAGIC)) {
      const unpacked = join(await temp.path(), 'ova.tar');
      await gunzipTo(tar, unpacked, path);
      const packed = tar;
      tar = await RawFile.open(unpacked);
      await packed.close();
    }
    const entries = new Map<string, TarEntry>();
    for (const e of await readTarIndex(tar, path)) entries.set(e.name, e);
    return {
      path,
      temp,
      names: [...entries.keys()],
      open: async (name) => {
        const e = entries.get(name);
        return e && new WindowDevice(`${path} (${name})`, tar, e.offset, e.size);
      },
      hostPath: () => undefined,
      close: async () => {
        await tar.close();
        await temp.remove();
      },
    };
  } catch (e) {
    await tar.close();
    await temp.remove();
    throw e;
  }
}

async function directoryFiles(dir: string): Promise<OvaFiles> {
  const names: string[] = [];
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    if (names.length >= MAX_DIR_FILES) throw new InputError(dir, `more than ${MAX_DIR_FILES} files in the OVA directory`);
    names.push(relative(dir, join(e.parentPath, e.name)).split(sep).join('/'));
  }
  const real = await realpath(dir);
  const hostPath = (name: string) => (names.includes(name) ? join(dir, name) : undefined);
  const temp = new TempDir();
  return {
    path: dir,
    temp,
    names,
    open: async (name) => {
      const p = hostPath(name);
      if (p === undefined) return undefined;
      // readdir listed regular files, but one may be a symlink swapped in since: stay inside.
      const rel = relative(real, await realpath(p));
      if (rel.startsWith('..') || isAbsolute(rel)) throw new InputError(dir, `"${name}" leads outside the OVA directory`);
      return RawFile.open(p);
    },
    hostPath,
    close: () => temp.remove(),
  };
}
