import assert from 'node:assert/strict';
import { lstat, readdir, readFile as readHostFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { RawFile } from '../../../disk/raw.js';
import type { Filesystem } from '../../../fs/filesystem.js';
import { ntfsDriver } from '../../../fs/ntfs/driver.js';
import { resolvePath } from '../../../fs/path.js';
import { run, runStatus } from '../../fixtures/run.js';
import { clusterProblems } from './consistency.js';
import { prng as rng } from '../../../disk/filters/prng.js';
import { copyImage, smallImage, withNtfs3g } from './images.js';

interface FileNode { kind: 'file'; data: Buffer }
interface LinkNode { kind: 'link'; target: string }
interface DirNode { kind: 'dir' }
type ModelNode = FileNode | LinkNode | DirNode;

/** What a volume shows: path → kind, bytes or target, link count. */
type Shown = Map<string, string>;

function describe(model: Map<string, ModelNode>): Shown {
  const out: Shown = new Map();
  const nlink = new Map<ModelNode, number>();
  for (const n of model.values()) nlink.set(n, (nlink.get(n) ?? 0) + 1);
  for (const [p, n] of model) {
    if (n.kind === 'dir') out.set(p, 'dir');
    else if (n.kind === 'link') out.set(p, `link ${n.target}`);
    else out.set(p, `file ${n.data.toString('base64')} nlink ${nlink.get(n)}`);
  }
  return out;
}

async function shownByNtfs3g(mnt: string): Promise<Shown> {
  const out: Shown = new Map();
  const walk = async (rel: string): Promise<void> => {
    for (const name of await readdir(join(mnt, rel))) {
      const p = `${rel}/${name}`;
      const st = await lstat(join(mnt, p));
      if (st.isDirectory()) {
        out.set(p, 'dir');
        await walk(p);
      } else if (st.isSymbolicLink()) out.set(p, `link ${await readlink(join(mnt, p))}`);
      else out.set(p, `file ${(await readHostFile(join(mnt, p))).toString('base64')} nlink ${st.nlink}`);
    }
  };
  await walk('');
  return out;
}

/** The model of an image as ntfs-3g shows it before a test changes it (files and dirs). */
async function startingModel(img: string): Promise<Map<string, ModelNode>> {
  const model = new Map<string, ModelNode>();
  for (const [p, v] of await withNtfs3g(img, 'ro', shownByNtfs3g)) {
    model.set(p, v === 'dir' ? { kind: 'dir' } : { kind: 'file', data: Buffer.from(v.split(' ')[1]!, 'base64') });
  }
  return model;
}

/** A copy of the small image, its model, and a new directory `dir` made through our driver. */
async function withNewDir(name: string, dir: string) {
  const img = await copyImage(await smallImage(), name);
  const model = await startingModel(img);
  const dev = await RawFile.open(img, true);
  const fs = await ntfsDriver.open(dev, { writable: true });
  const d = await fs.mkdir(fs.rootIno, dir, 0o755, 0, 0);
  model.set(`/${dir}`, { kind: 'dir' });
  return { img, dev, fs, d, model };
}

async function checkVolume(img: string, model: Map<string, ModelNode>): Promise<void> {
  const fix = await runStatus('ntfsfix', ['-n', img]);
  assert.equal(fix.code, 0, fix.stdout + fix.stderr);
  await run('ntfsls', ['-R', img]);
  assert.deepEqual(await clusterProblems(img), [], 'runs and $Bitmap agree');
  const seen = await withNtfs3g(img, 'ro', shownByNtfs3g);
  const want = describe(model);
  assert.deepEqual([...seen.keys()].sort(), [...want.keys()].sort(), 'ntfs-3g sees exactly the model\'s paths');
  for (const [p, v] of want) assert.equal(seen.get(p), v, p);
}

for (const clusterSize of [4096, 512, 65536]) {
  test(`ntfs tree c${clusterSize}: a seeded random sequence of namespace and data ops matches a model; ntfsfix-clean; ntfs-3g sees exactly the model`, { timeout: 600_000 }, async () => {
    const img = await copyImage(await smallImage(clusterSize), `ntfs-tree-c${clusterSize}`);
    const dev = await RawFile.open(img, true);
    let fs: Filesystem = await ntfsDriver.open(dev, { writable: true });
    // Start from what is there.
    const model = await startingModel(img);
    const rand = rng(Number(process.env.NTFS_TREE_SEED ?? 424242));
    const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const dirs = (): string[] => ['', ...[...model].filter(([, n]) => n.kind === 'dir').map(([p]) => p)];
    const files = (): string[] => [...model].filter(([, n]) => n.kind === 'file').map(([p]) => p);
    const newName = (): string => pick(['n', 'Ünï-', '日本-', 'long-name-with-more-characters-']) + Math.floor(rand() * 60);
    const ino = async (p: string): Promise<number> => (await resolvePath(fs, p || '/', false)).ino;
    const split = (p: string): [string, string] => [p.slice(0, p.lastIndexOf('/')), p.slice(p.lastIndexOf('/') + 1)];
    const OPS = 400;
    const done = new Map<string, number>();
    const did = (what: string): void => void done.set(what, (done.get(what) ?? 0) + 1);
    for (let i = 0; i < OPS; i++) {
      const op = rand();
      const parent = pick(dirs());
      const name = newName();
      const path = `${parent}/${name}`;
      const exists = model.has(path);
      if (op < 0.25) {
        if (exists) {
          await assert.rejects(fs.create(await ino(parent), name, 0o644, 0, 0), /EEXIST/);
          continue;
        }
        const a = await fs.create(await ino(parent), name, 0o644, 0, 0);
        const data = Buffer.alloc(Math.floor(rand() * 3000), `c${i}`);
        if (data.length) await fs.write(a.ino, 0, data);
        model.set(path, { kind: 'file', data });
        did('create');
      } else if (op < 0.35) {
        if (exists) continue;
        await fs.mkdir(await ino(parent), name, 0o755, 0, 0);
        model.set(path, { kind: 'dir' });
        did('mkdir');
      } else if (op < 0.5 && files().length) {
        const p = pick(files());
        const n = model.get(p) as FileNode;
        const off = Math.floor(rand() * (n.data.length + 100));
        const data = Buffer.alloc(Math.floor(rand() * 20000) + 1, `w${i}`);
        await fs.write(await ino(p), off, data);
        const g = Buffer.alloc(Math.max(n.data.length, off + data.length));
        n.data.copy(g);
        data.copy(g, off);
        n.data = g;
      } else if (op < 0.62 && files().length) {
        const p = pick([...files(), ...[...model].filter(([, n]) => n.kind === 'link').map(([q]) => q)]);
        const [d, b] = split(p);
        await fs.unlink(await ino(d), b);
        model.delete(p);
        did('unlink');
      } else if (op < 0.7) {
        const empty = dirs().filter((d) => d !== '' && ![...model.keys()].some((k) => k.startsWith(`${d}/`)));
        const full = dirs().filter((d) => d !== '' && [...model.keys()].some((k) => k.startsWith(`${d}/`)));
        if (full.length && rand() < 0.2) {
          const [d, b] = split(pick(full));
          await assert.rejects(fs.rmdir(await ino(d), b), /ENOTEMPTY/);
        } else if (empty.length) {
          const p = pick(empty);
          const [d, b] = split(p);
          await fs.rmdir(await ino(d), b);
          model.delete(p);
          did('rmdir');
        }
      } else if (op < 0.82) {
        const someDirs = dirs().filter((d) => d !== '');
        const src = rand() < 0.3 && someDirs.length ? pick(someDirs) : pick([...model.keys()]);
        const n = model.get(src)!;
        if (n.kind === 'dir' && (path === src || path.startsWith(`${src}/`))) continue;
        const target = model.get(path);
        if (target && (target.kind === 'dir') !== (n.kind === 'dir')) continue;
        if (target?.kind === 'dir' && [...model.keys()].some((k) => k.startsWith(`${path}/`))) continue;
        const [d, b] = split(src);
        // A record already full of names has no room for a longer one: a clear ENOSPC, no change.
        const renamed = await fs.rename(await ino(d), b, await ino(parent), name).then(() => true, (e: Error) => {
          assert.match(e.message, /ENOSPC: .*has no room for \d+ bytes of attribute 0x30/);
          return false;
        });
        if (!renamed || src === path) continue;
        const moved = [...model].filter(([k]) => k === src || k.startsWith(`${src}/`));
        if (target) model.delete(path);
        for (const [k] of moved) model.delete(k);
        for (const [k, v] of moved) model.set(path + k.slice(src.length), v);
        did(n.kind === 'dir' ? 'rename dir' : 'rename');
      } else if (op < 0.9 && files().length) {
        if (exists) continue;
        const p = pick(files());
        // A record already full (e.g. of runs) has no room for another name: a clear ENOSPC.
        const linked = await fs.link(await ino(p), await ino(parent), name).catch((e: Error) => {
          assert.match(e.message, /ENOSPC: .*has no room for a new attribute/);
          return undefined;
        });
        if (linked) {
          model.set(path, model.get(p)!);
          did('link');
        }
      } else if (op < 0.95) {
        if (exists) continue;
        const target = pick(['../x', 'a/b/c', `target-${i}`]);
        await fs.symlink(await ino(parent), name, target, 0, 0);
        model.set(path, { kind: 'link', target });
        did('symlink');
      } else if (files().length) {
        const p = pick(files());
        const n = model.get(p) as FileNode;
        const size = Math.floor(rand() * 30000);
        await fs.truncate(await ino(p), size);
        const t = Buffer.alloc(size);
        n.data.copy(t, 0, 0, Math.min(size, n.data.length));
        n.data = t;
      }
      if (i % 100 === 99) {
        await fs.close();
        fs = await ntfsDriver.open(dev, { writable: true });
      }
    }
    await fs.close();
    await dev.close();
    for (const what of ['create', 'mkdir', 'unlink', 'rmdir', 'rename', 'rename dir', 'link', 'symlink']) assert.ok((done.get(what) ?? 0) > 3, `${what} ran (${JSON.stringify([...done])})`);
    await checkVolume(img, model);
  });
}

test('ntfs tree: 3,000 creates then 2,000 unlinks in one directory keep a valid multi-level index', { timeout: 600_000 }, async () => {
  const { img, dev, fs, d, model } = await withNewDir('ntfs-bigdir', 'big-dir');
  const names = Array.from({ length: 3000 }, (_, i) => `entry-${(i * 7919) % 3000}-${'x'.repeat(i % 40)}`);
  for (const n of names) {
    await fs.create(d.ino, n, 0o644, 0, 0);
    model.set(`/big-dir/${n}`, { kind: 'file', data: Buffer.alloc(0) });
  }
  for (const n of names.slice(0, 2000)) {
    await fs.unlink(d.ino, n);
    model.delete(`/big-dir/${n}`);
  }
  assert.equal((await fs.readdir(d.ino)).length, 1000);
  await fs.close();
  await dev.close();
  await checkVolume(img, model);
});

test('ntfs tree: FIFOs, sockets, device nodes and symlinks are made as ntfs-3g makes them; chmod/chown are silent', async () => {
  const img = await copyImage(await smallImage(), 'ntfs-special');
  const dev = await RawFile.open(img, true);
  const fs = await ntfsDriver.open(dev, { writable: true });
  await fs.mknod(fs.rootIno, 'fifo', 0o010644, 0, 0, 0);
  await fs.mknod(fs.rootIno, 'sock', 0o140644, 0, 0, 0);
  const rdev = (8 << 8) | 17; // makedev(8, 17)
  await fs.mknod(fs.rootIno, 'sdb1', 0o060644, rdev, 0, 0);
  await fs.mknod(fs.rootIno, 'tty', 0o020644, (4 << 8) | 1, 0, 0);
  const link = await fs.symlink(fs.rootIno, 'to-big', 'big', 0, 0);
  await fs.chmod(link.ino, 0o600);
  await fs.chown(link.ino, 1000, 1000);
  await assert.rejects(fs.mkdir(fs.rootIno, 'fifo', 0o755, 0, 0), /EEXIST/);
  await fs.close();
  await dev.close();
  const fix = await runStatus('ntfsfix', ['-n', img]);
  assert.equal(fix.code, 0, fix.stdout);
  const seen = await withNtfs3g(img, 'ro', async (mnt) => {
    const out: Record<string, string> = {};
    for (const n of ['fifo', 'sock', 'sdb1', 'tty', 'to-big']) out[n] = (await run('stat', ['-c', '%F %t:%T', join(mnt, n)])).trim();
    out.target = await readlink(join(mnt, 'to-big'));
    return out;
  });
  assert.deepEqual(seen, {
    fifo: 'fifo 0:0', sock: 'socket 0:0', sdb1: 'block special file 8:11', tty: 'character special file 4:1',
    'to-big': 'symbolic link 0:0', target: 'big',
  });
});

test('ntfs tree: utimens sets the times ntfs-3g shows', async () => {
  const img = await copyImage(await smallImage(), 'ntfs-times');
  const dev = await RawFile.open(img, true);
  const fs = await ntfsDriver.open(dev, { writable: true });
  const big = await resolvePath(fs, '/big');
  await fs.utimens(big.ino, { sec: 1_600_000_000, nsec: 123_456_700 }, { sec: 1_500_000_000, nsec: 900 });
  const a = await fs.getattr(big.ino);
  assert.deepEqual([a.atime, a.mtime], [{ sec: 1_600_000_000, nsec: 123_456_700 }, { sec: 1_500_000_000, nsec: 900 }]);
  await fs.close();
  await dev.close();
  const seen = await withNtfs3g(img, 'ro', (mnt) => run('stat', ['-c', '%X.%x|%Y.%y', join(mnt, 'big')]));
  assert.match(seen, /^1600000000\..*\.123456700 \+0000\|1500000000\..*\.000000900 \+0000/);
});

test('ntfs tree: concurrent creates and writes (as a FUSE layer issues them) do not collide', { timeout: 120_000 }, async () => {
  const { img, dev, fs, d, model } = await withNewDir('ntfs-concurrent', 'par');
  await Promise.all(Array.from({ length: 120 }, async (_, i) => {
    const a = await fs.create(d.ino, `c-${i}`, 0o644, 0, 0);
    const data = Buffer.alloc(1000 + i * 97, `p${i}`);
    await fs.write(a.ino, 0, data);
    model.set(`/par/c-${i}`, { kind: 'file', data });
  }));
  await fs.close();
  await dev.close();
  await checkVolume(img, model);
});
