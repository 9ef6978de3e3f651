import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prngInt } from '../../../disk/filters/prng.js';
import { FsError } from '../../../fs/errors.js';
import type { Filesystem } from '../../../fs/filesystem.js';
import { fatImage, fsck, mtools, mtoolsTree, openFat, ourTree, scratchCopy } from './tools.js';
import { allNodes, contains, fold, maskTimes, modelTree, newDir, type MDir, type MNode } from './model.js';
import { pattern } from './tree.js';

/** Names that exercise every naming path: 8.3 in each case, long, Unicode, alias collisions. */
function randomName(r: (n: number) => number): string {
  const i = r(12);
  switch (r(8)) {
    case 0: return `FILE${i}.TXT`;
    case 1: return `file${i}.txt`;
    case 2: return `File${i}.Txt`;
    case 3: return `a long file name ${i}.data`;
    case 4: return `longfilename number ${i}`;
    case 5: return `ünïcødé ${i} 文件`;
    case 6: return `x${i}`;
    default: return `${'Very long name '.repeat(6)}${i}.ext`;
  }
}

async function ino(fs: Filesystem, path: string[]): Promise<number> {
  let cur = fs.rootIno;
  for (const p of path) cur = (await fs.lookup(cur, p)).ino;
  return cur;
}

/** Run `op` and check it fails with `code`, or succeeds when code is undefined. */
async function expectOutcome(what: string, code: string | undefined, op: () => Promise<unknown>): Promise<boolean> {
  try {
    await op();
  } catch (e) {
    if (code === undefined && e instanceof FsError && e.code === 'ENOSPC') return false;
    assert.equal(e instanceof FsError ? e.code : String(e), code ?? 'success', `${what}: ${String(e)}`);
    return false;
  }
  assert.equal(code, undefined, `${what}: expected ${code}`);
  return true;
}

async function randomOps(fs: Filesystem, root: MDir, seed: number, count: number): Promise<void> {
  const r = prngInt(seed);
  const pick = <T>(xs: T[]): T => xs[r(xs.length)]!;
  for (let step = 0; step < count; step++) {
    const nodes = allNodes(root);
    const dirs = nodes.filter((n) => n.node.dir);
    const files = nodes.filter((n) => !n.node.dir);
    const kind = r(10);
    if (kind <= 1 || files.length === 0) {
      const d = pick(dirs);
      const dn = d.node as MDir;
      const name = randomName(r);
      const mkdir = kind === 1 && files.length > 0;
      const exists = dn.children.has(fold(name));
      const dino = await ino(fs, d.path);
      const ok = await expectOutcome(`${mkdir ? 'mkdir' : 'create'} ${name}`, exists ? 'EEXIST' : undefined, () =>
        mkdir ? fs.mkdir(dino, name, 0o755, 0, 0) : fs.create(dino, name, 0o644, 0, 0),
      );
      if (ok) dn.children.set(fold(name), mkdir ? newDir(name) : { name, dir: false, data: Buffer.alloc(0) });
    } else if (kind <= 4) {
      const f = pick(files);
      const node = f.node as MNode & { dir: false };
      const offset = r(node.data.length + 3000);
      const data = pattern(r(6000), seed * 1000 + step);
      const ok = await expectOutcome(`write ${f.path.join('/')}`, undefined, async () => fs.write(await ino(fs, f.path), offset, data));
      if (ok) {
        const grown = Buffer.alloc(Math.max(node.data.length, offset + data.length));
        node.data.copy(grown);
        data.copy(grown, offset);
        node.data = grown;
        node.mtime = undefined;
      }
    } else if (kind === 5) {
      const f = pick(files);
      const node = f.node as MNode & { dir: false };
      const size = r(node.data.length * 2 + 100);
      const ok = await expectOutcome('truncate', undefined, async () => fs.truncate(await ino(fs, f.path), size));
      if (ok) {
        const next = Buffer.alloc(size);
        node.data.copy(next, 0, 0, Math.min(size, node.data.length));
        node.data = next;
        node.mtime = undefined;
      }
    } else if (kind === 6) {
      const e = pick(nodes.slice(1));
      const parent = e.parent!;
      const name = e.path[e.path.length - 1]!;
      const nonEmpty = e.node.dir && e.node.children.size > 0;
      const ok = await expectOutcome(`remove ${e.path.join('/')}`, nonEmpty ? 'ENOTEMPTY' : undefined, async () =>
        e.node.dir ? fs.rmdir(await ino(fs, e.path.slice(0, -1)), name) : fs.unlink(await ino(fs, e.path.slice(0, -1)), name),
      );
      if (ok) parent.children.delete(fold(name));
    } else if (kind <= 8) {
      const src = pick(nodes.slice(1));
      const to = pick(dirs);
      const toDir = to.node as MDir;
      const existingNames = [...toDir.children.values()].map((c) => c.name);
      const newName = r(3) === 0 && existingNames.length > 0 ? pick(existingNames) : r(5) === 0 ? src.node.name.toUpperCase() : randomName(r);
      const target = toDir.children.get(fold(newName));
      let code: string | undefined;
      if (src.node.dir && (to.node === src.node || contains(src.node, to.node))) code = 'EINVAL';
      else if (target && target !== src.node) {
        if (target.dir && !src.node.dir) code = 'EISDIR';
        else if (!target.dir && src.node.dir) code = 'ENOTDIR';
        else if (target.dir && target.children.size > 0) code = 'ENOTEMPTY';
      }
      const ok = await expectOutcome(`rename ${src.path.join('/')} -> ${to.path.join('/')}/${newName}`, code, async () =>
        fs.rename(await ino(fs, src.path.slice(0, -1)), src.node.name, await ino(fs, to.path), newName),
      );
      if (ok) {
        src.parent!.children.delete(fold(src.node.name));
        toDir.children.delete(fold(newName));
        src.node.name = newName;
        toDir.children.set(fold(newName), src.node);
      }
    } else {
      const f = pick(files);
      const sec = Date.UTC(1990 + r(100), r(12), 1 + r(28), r(24), r(60), r(30) * 2) / 1000;
      const ok = await expectOutcome('utimens', undefined, async () => fs.utimens(await ino(fs, f.path), null, { sec, nsec: 0 }));
      if (ok) (f.node as MNode & { dir: false }).mtime = sec;
    }
  }
}

/** FAT_SEED=n runs other sequences than the default ones. */
const SEED = Number(process.env.FAT_SEED ?? 0);

const TYPES = [
  { type: 12 as const, kib: 4096, mkfs: [] },
  { type: 16 as const, kib: 20480, mkfs: [] },
  { type: 32 as const, kib: 66000, mkfs: [] },
  { type: 16 as const, kib: 65536, mkfs: ['-S', '4096'] },
];

for (const { type, kib, mkfs } of TYPES) {
  test(`fat${type} ${mkfs.join(' ')}: 400 random operations (seed ${SEED}) match a model; fsck.fat -n is clean and mtools reads the model back`, async () => {
    const base = await fatImage(`empty-fat${type}${mkfs.join('')}`, type, kib, async () => {}, mkfs);
    const img = await scratchCopy(base, `fat${type}-random`);
    const root = newDir('');
    let { fs, close } = await openFat(img, true);
    await randomOps(fs, root, type * 7919 + SEED, 200);
    await close();
    // Reopen in between: everything must come from the disk, not from caches.
    ({ fs, close } = await openFat(img, true));
    await randomOps(fs, root, type * 104729 + SEED, 200);
    await close();

    const check = await fsck(img);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.doesNotMatch(check.stdout, /wrong|Free cluster|differ|invalid|lost/i);
    const want = modelTree(root);
    assert.ok(want.length > 10, `the model holds ${want.length} entries`);
    assert.deepEqual(maskTimes(await mtoolsTree(img), want), want);
    ({ fs, close } = await openFat(img));
    assert.deepEqual(maskTimes(await ourTree(fs), want), want);
    const st = await fs.statfs();
    const free = Number(/([\d ]+) bytes free/.exec(await mtools('mdir', ['-i', img, '::/']))![1]!.replace(/ /g, ''));
    assert.equal(st.freeBlocks * st.blockSize, free);
    await close();
  });
}

test('fat16: concurrent calls (as FUSE makes them) leave a clean volume with every byte in place', async () => {
  const base = await fatImage('empty-fat16', 16, 20480, async () => {});
  const img = await scratchCopy(base, 'fat16-concurrent');
  let { fs, close } = await openFat(img, true);
  const d = await fs.mkdir(fs.rootIno, 'dir', 0o755, 0, 0);
  const names = Array.from({ length: 40 }, (_, i) => `concurrent file ${i}.bin`);
  const made = await Promise.all(names.map((n) => fs.create(d.ino, n, 0o644, 0, 0)));
  await Promise.all(
    made.flatMap((a, i) => [
      ...[0, 1, 2, 3].map((k) => fs.write(a.ino, k * 3000, pattern(3000, i * 10 + k))),
      fs.readdir(d.ino),
      fs.read(a.ino, 0, 5000),
    ]),
  );
  await close();
  ({ fs, close } = await openFat(img));
  const dir = await fs.lookup(fs.rootIno, 'dir');
  for (const [i, n] of names.entries()) {
    const a = await fs.lookup(dir.ino, n);
    const want = Buffer.concat([0, 1, 2, 3].map((k) => pattern(3000, i * 10 + k)));
    assert.equal((await fs.read(a.ino, 0, 20000)).equals(want), true, n);
  }
  await close();
  const check = await fsck(img);
  assert.equal(check.code, 0, check.stdout);
});
