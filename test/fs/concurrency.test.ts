/**
 * Many callers at once, as FUSE will make them: on fresh ext4, NTFS and FAT volumes made by
 * the real mkfs tools, 8 mkdirs at once, then 200 file tasks at once (create, write, extend,
 * rename, unlink) interleaved with readers (readdir, lookup, getattr, read), all through the
 * Filesystem interface that `FsDriver.open` hands out. Then the real fsck must be clean and
 * the real tools must read back exactly the model.
 */
import assert from 'node:assert/strict';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { prng } from '../../disk/filters/prng.js';
import { RawFile } from '../../disk/raw.js';
import { FsError } from '../../fs/errors.js';
import type { Filesystem, FsDriver } from '../../fs/filesystem.js';
import { ext4Driver } from '../../fs/ext4/driver.js';
import { fatDriver } from '../../fs/fat/driver.js';
import { ntfsDriver } from '../../fs/ntfs/driver.js';
import { fixture, scratch } from '../fixtures/cache.js';
import { run, runStatus } from '../fixtures/run.js';
import { hostTree, mtoolsTree } from './fat/tools.js';
import { clusterProblems } from './ntfs/consistency.js';
import { withNtfs3g } from './ntfs/images.js';

const DIRS = 8;
const FILES = 200;
const READERS = 40;

/** Path → content of every regular file the workload leaves behind. */
type Model = Map<string, Buffer>;

interface Case {
  driver: FsDriver;
  mkfs: (path: string) => Promise<void>;
  /** Names the real tools would show that the workload did not make. */
  skip: Set<string>;
  fsck: (img: string) => Promise<void>;
  /** The files as the real tools read them: path → content. */
  readBack: (img: string) => Promise<Model>;
}

async function treeOf(dir: string, skip: Set<string>): Promise<Model> {
  const out: Model = new Map();
  const { readFile } = await import('node:fs/promises');
  for (const t of await hostTree(dir)) {
    if (skip.has(t.path.split('/')[1]!) || t.dir) continue;
    out.set(t.path, await readFile(join(dir, t.path)));
  }
  return out;
}

const CASES: Case[] = [
  {
    driver: ext4Driver,
    mkfs: async (p) => {
      await run('truncate', ['-s', '32M', p]);
      await run('mkfs.ext4', ['-q', '-F', p]);
    },
    skip: new Set(['lost+found']),
    fsck: async (img) => {
      const r = await runStatus('e2fsck', ['-fn', img]);
      assert.equal(r.code, 0, `e2fsck -fn is not clean:\n${r.stdout}${r.stderr}`);
    },
    readBack: async (img) => {
      const dir = await scratch('conc-rdump');
      try {
        await run('debugfs', ['-R', `rdump / ${dir}`, img]);
        return await treeOf(dir, new Set(['lost+found']));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  },
  {
    driver: ntfsDriver,
    mkfs: async (p) => {
      await run('truncate', ['-s', '32M', p]);
      await run('mkntfs', ['-F', '-Q', '-q', p]);
    },
    skip: new Set(),
    fsck: async (img) => {
      const r = await runStatus('ntfsfix', ['-n', img]);
      assert.equal(r.code, 0, `ntfsfix -n:\n${r.stdout}${r.stderr}`);
      assert.deepEqual(await clusterProblems(img), [], 'runs and $Bitmap agree');
    },
    readBack: (img) => withNtfs3g(img, 'ro', (mnt) => treeOf(mnt, new Set())),
  },
  {
    driver: fatDriver,
    mkfs: (p) => run('mkfs.vfat', ['-C', '-F', '16', p, '32768']).then(() => undefined),
    skip: new Set(),
    fsck: async (img) => {
      const r = await runStatus('fsck.fat', ['-n', img]);
      assert.equal(r.code, 0, `fsck.fat -n:\n${r.stdout}${r.stderr}`);
    },
    readBack: async (img) => {
      const out: Model = new Map();
      const dir = await scratch('conc-mcopy');
      try {
        await mkdir(dir, { recursive: true });
        await run('mcopy', ['-s', '-n', '-i', img, '::/*', `${dir}/`], { env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
        for (const [p, b] of await treeOf(dir, new Set())) out.set(p, b);
        // mtoolsTree walks the same image; its listing must agree with the copy.
        assert.deepEqual((await mtoolsTree(img)).filter((t) => !t.dir).map((t) => t.path), [...out.keys()].sort());
        return out;
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  },
];

/** ENOENT is a fair answer to a reader racing an unlink or rename; anything else is a failure. */
function raced(e: unknown): undefined {
  if (e instanceof FsError && e.code === 'ENOENT') return undefined;
  throw e;
}

interface Counts { changes: number; reads: number }

async function workload(fs: Filesystem, seed: number): Promise<{ model: Model; counts: Counts }> {
  const rand = prng(seed);
  const pick = (n: number) => Math.floor(rand() * n);
  const counts: Counts = { changes: 0, reads: 0 };
  const model: Model = new Map();
  const dirNames = Array.from({ length: DIRS }, (_, i) => `dir${i}`);
  const dirIno = await Promise.all(dirNames.map((d) => fs.mkdir(fs.rootIno, d, 0o755, 0, 0).then((a) => a.ino)));
  counts.changes += DIRS;

  // Each file task is a chain of its own, so the end state does not depend on the interleaving.
  const plans = Array.from({ length: FILES }, (_, i) => ({
    i,
    dir: pick(DIRS),
    size: pick(3) === 0 ? pick(200) : pick(40000),
    extra: pick(8000),
    fate: ['keep', 'keep', 'rename', 'unlink'][pick(4)]!,
    to: pick(DIRS),
    seed: pick(2 ** 31),
  }));
  const bodies = new Map<number, Buffer>();
  let writersLeft = plans.length;
  const fileTask = async (p: (typeof plans)[number]): Promise<void> => {
    const body = Buffer.alloc(p.size + p.extra);
    const r = prng(p.seed);
    for (let k = 0; k < body.length; k++) body[k] = Math.floor(r() * 256);
    bodies.set(p.i, body);
    const name = `f${p.i}.bin`;
    const a = await fs.create(dirIno[p.dir]!, name, 0o100644, 0, 0);
    assert.equal(await fs.write(a.ino, 0, body.subarray(0, p.size)), p.size);
    assert.equal(await fs.write(a.ino, p.size, body.subarray(p.size)), p.extra);
    counts.changes += 3;
    if (p.fate === 'keep') model.set(`/${dirNames[p.dir]}/${name}`, body);
    else if (p.fate === 'rename') {
      const to = `r${p.i}.bin`;
      await fs.rename(dirIno[p.dir]!, name, dirIno[p.to]!, to);
      model.set(`/${dirNames[p.to]}/${to}`, body);
      counts.changes++;
    } else {
      await fs.unlink(dirIno[p.dir]!, name);
      counts.changes++;
    }
    writersLeft--;
  };
  const reader = async (): Promise<void> => {
    while (writersLeft > 0) {
      const d = pick(DIRS);
      const entries = await fs.readdir(dirIno[d]!);
      counts.reads++;
      for (const e of entries) assert.match(e.name, /^[fr]\d+\.bin$/, `readdir of ${dirNames[d]} shows a name nobody made`);
      const e = entries[pick(Math.max(entries.length, 1))];
      if (!e) {
        await new Promise((res) => setImmediate(res));
        continue;
      }
      // Between two calls another task may have renamed or removed the name: ENOENT is fair.
      const attr = await fs.lookup(dirIno[d]!, e.name).catch(raced);
      counts.reads++;
      const plan = plans[Number(/\d+/.exec(e.name)![0])]!;
      // Files kept in place are never removed, so their inode stays valid to read.
      if (!attr || plan.fate !== 'keep') continue;
      assert.ok((await fs.getattr(attr.ino)).size >= attr.size, 'a file only grows');
      const got = await fs.read(attr.ino, 0, attr.size);
      counts.reads += 2;
      assert.ok(got.equals(bodies.get(plan.i)!.subarray(0, attr.size)), `${e.name}: a read sees whole writes only`);
    }
  };
  // Readers stop when the writers are done, failed or not.
  const [writers, readers] = await Promise.all([
    Promise.allSettled(plans.map(fileTask)).finally(() => (writersLeft = 0)),
    Promise.allSettled(Array.from({ length: READERS }, reader)),
  ]);
  for (const r of [...writers, ...readers]) if (r.status === 'rejected') throw r.reason;
  return { model, counts };
}

for (const c of CASES) {
  test(`${c.driver.type}: concurrent creates, writes, renames and unlinks among readers leave a clean volume equal to the model`, async (t) => {
    const base = await fixture(`conc-${c.driver.type}.img`, `v1 ${c.mkfs.toString()}`, c.mkfs);
    const dir = await scratch(`conc-${c.driver.type}`);
    try {
      const img = join(dir, 'fs.img');
      await run('cp', ['--sparse=always', base, img]);
      const dev = await RawFile.open(img, true);
      const fs = await c.driver.open(dev, { writable: true });
      const { model, counts } = await workload(fs, 8);
      await fs.close();
      await dev.close();
      assert.ok(model.size > 100 && counts.reads > READERS, `${model.size} files, ${counts.reads} reads`);
      t.diagnostic(`${counts.changes} changes and ${counts.reads} reads by ${FILES + READERS} concurrent tasks; ${model.size} files left`);
      await c.fsck(img);
      const seen = await c.readBack(img);
      assert.deepEqual([...seen.keys()].sort(), [...model.keys()].sort(), 'the real tools see exactly the model\'s files');
      for (const [p, b] of model) assert.ok(seen.get(p)!.equals(b), `${p}: content differs`);
      // Our own driver, reopened, agrees as well.
      const ro = await RawFile.open(img);
      const fs2 = await c.driver.open(ro);
      for (const [p, b] of model) {
        const [, d, f] = p.split('/');
        const a = await fs2.lookup(await fs2.lookup(fs2.rootIno, d!).then((x) => x.ino), f!);
        assert.ok((await fs2.read(a.ino, 0, a.size)).equals(b), `${p} read back by our driver`);
      }
      await fs2.close();
      await ro.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}
