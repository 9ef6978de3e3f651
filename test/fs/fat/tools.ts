/** Test helpers: FAT images made by mkfs.vfat and mtools, and trees read back by mtools, the host and our driver. */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after } from 'node:test';
import { RawFile } from '../../../disk/raw.js';
import type { Filesystem } from '../../../fs/filesystem.js';
import { fatDriver } from '../../../fs/fat/driver.js';
import { fixture, scratch } from '../../fixtures/cache.js';
import { run, runStatus } from '../../fixtures/run.js';

const env = { ...process.env, MTOOLS_SKIP_CHECK: '1', TZ: 'UTC' };

const scratchDirs: string[] = [];
after(() => Promise.all(scratchDirs.map((d) => rm(d, { recursive: true, force: true }))));

/** A scratch copy of image `base` for one test to change; removed when the test file ends. */
export async function scratchCopy(base: string, name: string): Promise<string> {
  const dir = await scratch(name);
  scratchDirs.push(dir);
  const img = join(dir, `${name}.img`);
  await copyFile(base, img);
  return img;
}

/** A scratch directory removed when the test file ends. */
export async function scratchDir(name: string): Promise<string> {
  const dir = await scratch(name);
  scratchDirs.push(dir);
  return dir;
}

export function mtools(cmd: string, args: string[]): Promise<string> {
  return run(cmd, args, { env });
}

/** One file or directory of a tree: path relative to the top, size, mtime in seconds, content hash. */
export interface TreeItem {
  path: string;
  dir: boolean;
  size: number;
  mtime: number;
  sha: string;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A host directory tree, sorted by path. */
export async function hostTree(top: string): Promise<TreeItem[]> {
  const out: TreeItem[] = [];
  const walk = async (dir: string, rel: string) => {
    for (const name of await readdir(dir)) {
      const p = join(dir, name);
      const st = await stat(p);
      const path = `${rel}/${name}`;
      if (st.isDirectory()) {
        out.push({ path, dir: true, size: 0, mtime: Math.floor(st.mtimeMs / 1000), sha: '' });
        await walk(p, path);
      } else {
        out.push({ path, dir: false, size: st.size, mtime: Math.floor(st.mtimeMs / 1000), sha: sha(await readFile(p)) });
      }
    }
  };
  await walk(top, '');
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** The same tree as our driver reads it. */
export async function ourTree(fs: Filesystem): Promise<TreeItem[]> {
  const out: TreeItem[] = [];
  const walk = async (ino: number, rel: string) => {
    for (const e of await fs.readdir(ino)) {
      const path = `${rel}/${e.name}`;
      const dir = (e.attr.mode & 0o170000) === 0o040000;
      if (dir) {
        out.push({ path, dir, size: 0, mtime: e.attr.mtime.sec, sha: '' });
        await walk(e.attr.ino, path);
      } else {
        const h = createHash('sha256');
        for (let off = 0; off < e.attr.size; off += 4 << 20) h.update(await fs.read(e.attr.ino, off, 4 << 20));
        out.push({ path, dir, size: e.attr.size, mtime: e.attr.mtime.sec, sha: h.digest('hex') });
      }
    }
  };
  await walk(fs.rootIno, '');
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** What mtools reads from the image: `mcopy -s -m` out to a scratch directory. */
export async function mtoolsTree(img: string): Promise<TreeItem[]> {
  const dir = await scratch('mcopy-out');
  try {
    if ((await mtools('mdir', ['-b', '-i', img, '::/'])).trim() !== '') {
      await mtools('mcopy', ['-s', '-m', '-n', '-i', img, '::/*', `${dir}/`]);
    }
    return await hostTree(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A FAT image of `kib` KiB made by mkfs.vfat -F `type`, with `populate(dir)`'s tree copied in by mcopy. */
export function fatImage(name: string, type: 12 | 16 | 32, kib: number, populate: (dir: string) => Promise<void>, mkfsArgs: string[] = []): Promise<string> {
  const recipe = `v1 ${type} ${kib} ${mkfsArgs.join(' ')} ${populate.toString()}`;
  return fixture(`${name}.img`, recipe, async (path) => {
    await mkdir(`${path}.src`, { recursive: true });
    try {
      await run('mkfs.vfat', ['-C', '-F', String(type), '-i', '1234ABCD', ...mkfsArgs, path, String(kib)]);
      await populate(`${path}.src`);
      const top = await readdir(`${path}.src`);
      if (top.length > 0) await mtools('mcopy', ['-s', '-m', '-i', path, ...top.map((t) => join(`${path}.src`, t)), '::/']);
    } finally {
      await rm(`${path}.src`, { recursive: true, force: true });
    }
  });
}

export async function openFat(img: string, writable = false, options?: Record<string, string | true>): Promise<{ fs: Filesystem; close: () => Promise<void> }> {
  const dev = await RawFile.open(img, writable);
  const fs = await fatDriver.open(dev, { writable, options });
  return {
    fs,
    close: async () => {
      await fs.close();
      await dev.close();
    },
  };
}

/** fsck.fat -n: exit status and output. */
export function fsck(img: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return runStatus('fsck.fat', ['-n', img]);
}
