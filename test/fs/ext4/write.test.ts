import assert from 'node:assert/strict';
import { copyFile, lstat, readdir, readFile as readHost, readlink, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { prngInt } from '../../../disk/filters/prng.js';
import { RawFile } from '../../../disk/raw.js';
import { ext4Driver } from '../../../fs/ext4/driver.js';
import type { Ext4Fs } from '../../../fs/ext4/ext4fs.js';
import type { Ext4Writer } from '../../../fs/ext4/ext4-writer.js';
import { FsError } from '../../../fs/errors.js';
import type { Filesystem } from '../../../fs/filesystem.js';
import { readFile, resolvePath } from '../../../fs/path.js';
import { scratch } from '../../fixtures/cache.js';
import { run, runStatus } from '../../fixtures/run.js';
import { debugfsBatch, parseLs } from './debugfs-ref.js';
import { VARIANTS, variantImage } from './images.js';
import { unlocked } from '../../../fs/locked.js';

type Node =
  | { kind: 'file'; data: Buffer; mode: number; xattrs: Map<string, Buffer>; ino?: number }
  | { kind: 'dir'; mode: number }
  | { kind: 'link'; target: string };

async function freshImage(name: string, mkfs: string[], size = '24M'): Promise<string> {
  const dir = await scratch(name);
  const image = join(dir, 'fs.img');
  await run('truncate', ['-s', size, image]);
  await run(mkfs[0]!, [...mkfs.slice(1), '-q', '-F', image]);
  return image;
}

async function fsck(image: string): Promise<void> {
  const r = await runStatus('e2fsck', ['-fn', image]);
  assert.equal(r.code, 0, `e2fsck -fn is not clean:\n${r.stdout}${r.stderr}`);
}

function parentOf(p: string): string {
  return p.slice(0, p.lastIndexOf('/')) || '/';
}

async function ino(fs: Filesystem, path: string): Promise<number> {
  return (await resolvePath(fs, path, false)).ino;
}

/** Apply `ops` random operations to the driver and to a model; returns the model. */
async function randomOps(fs: Filesystem, seed: number, ops: number): Promise<Map<string, Node>> {
  const r = prngInt(seed);
  const model = new Map<string, Node>([['/', { kind: 'dir', mode: 0o755 }]]);
  const pick = (kind?: Node['kind']): string | undefined => {
    const c = [...model.keys()].filter((p) => p !== '/' && (!kind || model.get(p)!.kind === kind));
    return c.length ? c[r(c.length)] : undefined;
  };
  const dirs = (): string[] => [...model.keys()].filter((p) => model.get(p)!.kind === 'dir');
  const newPath = (): string => {
    const d = dirs()[r(dirs().length)]!;
    return `${d === '/' ? '' : d}/n${r(1000)}${'x'.repeat(r(3) === 0 ? 40 + r(150) : r(8))}`;
  };
  const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => r(256)));
  for (let step = 0; step < ops; step++) {
    const op = r(12);
    if (op <= 1) {
      const p = newPath();
      if (model.has(p)) continue;
      await fs.create(await ino(fs, parentOf(p)), p.slice(parentOf(p).length + (parentOf(p) === '/' ? 0 : 1)), 0o644, 1000, 100);
      model.set(p, { kind: 'file', data: Buffer.alloc(0), mode: 0o644, xattrs: new Map() });
    } else if (op <= 3) {
      const p = pick('file');
      if (!p) continue;
      const f = model.get(p) as Extract<Node, { kind: 'file' }>;
      const len = r(4) === 0 ? r(200_000) : r(5000);
      const off = r(3) === 0 ? f.data.length + r(100_000) : r(f.data.length + 1);
      const data = bytes(len);
      await fs.write(await ino(fs, p), off, data);
      const grown = Buffer.alloc(Math.max(f.data.length, off + len));
      f.data.copy(grown);
      data.copy(grown, off);
      f.data = grown;
    } else if (op === 4) {
      const p = pick('file');
      if (!p) continue;
      const f = model.get(p) as Extract<Node, { kind: 'file' }>;
      const size = r(2) ? r(f.data.length + 1) : f.data.length + r(50_000);
      await fs.truncate(await ino(fs, p), size);
      const next = Buffer.alloc(size);
      f.data.copy(next, 0, 0, Math.min(size, f.data.length));
      f.data = next;
    } else if (op === 5) {
      const p = pick('file') ?? pick('link');
      if (!p) continue;
      await fs.unlink(await ino(fs, parentOf(p)), p.slice(p.lastIndexOf('/') + 1));
      model.delete(p);
    } else if (op === 6) {
      const p = newPath();
      if (model.has(p)) continue;
      await fs.mkdir(await ino(fs, parentOf(p)), p.slice(p.lastIndexOf('/') + 1), 0o750, 0, 0);
      model.set(p, { kind: 'dir', mode: 0o750 });
    } else if (op === 7) {
      const p = pick('dir');
      if (!p || [...model.keys()].some((q) => q.startsWith(p + '/'))) continue;
      await fs.rmdir(await ino(fs, parentOf(p)), p.slice(p.lastIndexOf('/') + 1));
      model.delete(p);
    } else if (op === 8) {
      // Rename a file or an empty-or-not directory anywhere (not below itself), replacing files.
      const p = pick();
      const q = newPath();
      if (!p || q === p || q.startsWith(p + '/')) continue;
      const dst = model.get(q);
      const src = model.get(p)!;
      if (dst && (dst.kind === 'dir' || src.kind === 'dir')) continue;
      await fs.rename(await ino(fs, parentOf(p)), p.slice(p.lastIndexOf('/') + 1), await ino(fs, parentOf(q)), q.slice(q.lastIndexOf('/') + 1));
      for (const k of [...model.keys()]) {
        if (k === p || k.startsWith(p + '/')) {
          const v = model.get(k)!;
          model.delete(k);
          model.set(q + k.slice(p.length), v);
        }
      }
    } else if (op === 9) {
      const p = newPath();
      if (model.has(p)) continue;
      const target = r(2) ? `t${r(100)}` : 'long/'.repeat(20 + r(100));
      await fs.symlink(await ino(fs, parentOf(p)), p.slice(p.lastIndexOf('/') + 1), target, 0, 0);
      model.set(p, { kind: 'link', target });
    } else if (op === 10) {
      const p = pick('file');
      if (!p) continue;
      const f = model.get(p) as Extract<Node, { kind: 'file' }>;
      const name = `user.k${r(6)}`;
      if (r(3) === 0 && f.xattrs.size) {
        const k = [...f.xattrs.keys()][0]!;
        await fs.removexattr(await ino(fs, p), k);
        f.xattrs.delete(k);
      } else {
        const v = bytes(r(3) === 0 ? 300 + r(600) : r(20));
        // Too many big values for one block is ENOSPC, and must leave the old ones intact.
        const full = await fs.setxattr(await ino(fs, p), name, v, 0).then(() => false, (e: unknown) => {
          if (e instanceof FsError && e.code === 'ENOSPC') return true;
          throw e;
        });
        if (!full) f.xattrs.set(name, v);
      }
    } else {
      const p = pick('file') ?? pick('dir');
      if (!p) continue;
      const m = 0o600 + r(0o177);
      await fs.chmod(await ino(fs, p), m);
      (model.get(p) as { mode: number }).mode = m;
    }
  }
  return model;
}

/** Compare what debugfs dumps (rdump) and lists with the model. */
async function checkWithDebugfs(image: string, model: Map<string, Node>): Promise<void> {
  const out = await scratch('ext4-rdump');
  await run('debugfs', ['-R', `rdump / ${out}`, image]);
  // rdump of the root writes its entries straight into `out`.
  const root = out;
  const seen = new Set<string>();
  const walk = async (host: string, path: string): Promise<void> => {
    for (const name of await readdir(host)) {
      if (path === '/' && name === 'lost+found') continue;
      const p = `${path === '/' ? '' : path}/${name}`;
      seen.add(p);
      const m = model.get(p);
      assert.ok(m, `debugfs has ${p}, the model does not`);
      const st = await lstat(join(host, name));
      if (m.kind === 'dir') {
        assert.ok(st.isDirectory(), `${p} is a directory`);
        assert.equal(st.mode & 0o7777, m.mode, `${p} mode`);
        await walk(join(host, name), p);
      } else if (m.kind === 'link') {
        assert.equal(await readlink(join(host, name)), m.target, `${p} target`);
      } else {
        assert.deepEqual(await readHost(join(host, name)), m.data, `${p} content`);
        assert.equal(st.mode & 0o7777, m.mode, `${p} mode`);
      }
    }
  };
  await walk(root, '/');
  for (const p of model.keys()) if (p !== '/') assert.ok(seen.has(p), `the model has ${p}, debugfs does not`);
  await rm(out, { recursive: true, force: true });
  const files = [...model.entries()].filter(([, n]) => n.kind === 'file' && n.xattrs.size);
  const outs = await debugfsBatch(image, files.map(([p]) => `ea_list "${p}"`));
  files.forEach(([p, n], i) => {
    const names = [...outs[i]!.matchAll(/^ {2}(\S+) \(/gm)].map((m) => m[1]);
    assert.deepEqual(names.sort(), [...(n as Extract<Node, { kind: 'file' }>).xattrs.keys()].sort(), `${p} xattrs`);
  });
}

for (const [name, mkfs] of [['4k', ['mkfs.ext4', '-b', '4096']], ['1k', ['mkfs.ext4', '-b', '1024']], ['ext3', ['mkfs.ext3']], ['ext2-1k', ['mkfs.ext2', '-b', '1024']], ['gdt-csum', ['mkfs.ext4', '-O', '^metadata_csum,uninit_bg']], ['meta_bg', ['mkfs.ext4', '-b', '1024', '-O', 'meta_bg,^resize_inode', '-N', '2048']]] as const) {
  test(`ext4 write (${name}): random operations keep e2fsck clean and match a model`, async () => {
    const image = await freshImage(`ext4-write-${name}`, [...mkfs]);
    const dev = await RawFile.open(image, true);
    const fs = await ext4Driver.open(dev, { writable: true });
    assert.equal(fs.writable, true);
    const model = await randomOps(fs, name.length * 7 + 35, 300);
    assert.ok(model.size > 40, `the sequence built a tree of ${model.size} entries`);
    // Our own read-back agrees with the model before and after reopening.
    for (const [p, n] of model) if (n.kind === 'file') assert.deepEqual(await readFile(fs, p), n.data, `${p} read back`);
    await fs.close();
    await dev.close();
    await fsck(image);
    await checkWithDebugfs(image, model);
    const ro = await RawFile.open(image);
    const fs2 = await ext4Driver.open(ro);
    for (const [p, n] of model) {
      if (n.kind === 'file') {
        assert.deepEqual(await readFile(fs2, p), n.data, `${p} after reopen`);
        for (const [k, v] of n.xattrs) assert.deepEqual(await fs2.getxattr(await ino(fs2, p), k), v, `${p} ${k}`);
      }
    }
    await ro.close();
  });
}

/** A writable open of a scratch copy of an ext4 fixture (its /many is an htree). */
async function writableCopy(name: string, variant = 'ext4-default'): Promise<{ image: string; dev: RawFile; fs: Filesystem }> {
  const { image: base } = await variantImage(VARIANTS.find((x) => x.name === variant)!);
  const image = join(await scratch(name), 'fs.img');
  await copyFile(base, image);
  const dev = await RawFile.open(image, true);
  return { image, dev, fs: await ext4Driver.open(dev, { writable: true }) };
}

for (const variant of ['ext4-default', 'ext4-1k']) {
  test(`ext4 write (${variant}): htree leaves split as entries are added, e2fsck stays clean`, async () => {
    const { image, dev, fs } = await writableCopy(`ext4-htree-write-${variant}`, variant);
    const many = await ino(fs, '/many');
    const added: string[] = [];
    for (let i = 0; i < 600; i++) {
      const n = `added-${i}-${'q'.repeat(i % 50)}`;
      await fs.create(many, n, 0o644, 0, 0);
      added.push(n);
      if (i % 7 === 0) await fs.unlink(many, `entry-${i % 400}-${'n'.repeat((i % 400) % 40)}`);
    }
    await fs.close();
    await dev.close();
    await fsck(image);
    const [ls, st] = await debugfsBatch(image, ['ls -l /many', 'stat /many']);
    const names = parseLs(ls!);
    for (const n of added) assert.ok(names.has(n), `${n} listed by debugfs`);
    assert.ok(!names.has('entry-0-'), 'removed entry gone');
    assert.equal(names.size - 2, 400 + 600 - Math.ceil(600 / 7));
    // Still indexed, and the index alone finds every new name.
    assert.match(st!, /Flags: 0x81000/);
    const ro = await RawFile.open(image);
    const fs2 = unlocked(await ext4Driver.open(ro)) as Ext4Fs;
    const dir = await fs2.inodes.get(many);
    for (const n of added) assert.equal((await fs2.dirs.htreeLookup(dir, Buffer.from(n)))?.ino, names.get(n), `index finds ${n}`);
    await ro.close();
  });
}

test('ext4 write: a small htree insert stays indexed', async () => {
  const { image, dev, fs } = await writableCopy('ext4-htree-small');
  const many = await ino(fs, '/many');
  // Make room first (removals never touch the index), then insert into the same leaves.
  for (let i = 0; i < 400; i += 2) await fs.unlink(many, `entry-${i}-${'n'.repeat(i % 40)}`);
  for (let i = 0; i < 20; i++) await fs.create(many, `new-${i}`, 0o644, 0, 0);
  await fs.close();
  await dev.close();
  await fsck(image);
  assert.match(await run('debugfs', ['-R', 'stat /many', image]), /Flags: 0x81000/);
  const ro = await RawFile.open(image);
  const fs2 = await ext4Driver.open(ro);
  for (let i = 0; i < 20; i++) await resolvePath(fs2, `/many/new-${i}`);
  await ro.close();
});

test('ext4 write: read-only opens refuse writes; unknown RO_COMPAT features stay read-only', async () => {
  const { image } = await variantImage(VARIANTS.find((x) => x.name === 'ext4-default')!);
  const dev = await RawFile.open(image);
  const fs = await ext4Driver.open(dev);
  await assert.rejects(fs.create(fs.rootIno, 'x', 0o644, 0, 0), (e: unknown) => e instanceof FsError && e.code === 'EROFS');
  await dev.close();
  const dir = await scratch('ext4-ro');
  // An RO_COMPAT bit this driver does not know: readable, not writable.
  const ro = join(dir, 'rocompat.img');
  await copyFile(image, ro);
  await run('debugfs', ['-w', '-R', 'feature verity', ro]);
  const rdev = await RawFile.open(ro, true);
  await assert.rejects(ext4Driver.open(rdev, { writable: true }), (e: unknown) => e instanceof FsError && e.code === 'EROFS' && /RO_COMPAT 0x8000/.test(e.message));
  const rfs = await ext4Driver.open(rdev);
  assert.equal((await readFile(rfs, '/hello.txt')).toString(), 'hello world\n');
  await rdev.close();
});

test('ext4 write: attributes, device nodes, ACLs, symlinks and big sparse writes as debugfs sees them', async () => {
  const { image, dev, fs } = await writableCopy('ext4-write-attrs');
  const f = await fs.create(fs.rootIno, 'attrs', 0o600, 0, 0);
  await fs.chown(f.ino, 70000, 80001);
  await fs.chmod(f.ino, 0o4751);
  await fs.utimens(f.ino, { sec: 2 ** 32 + 5, nsec: 123456789 }, { sec: -100, nsec: 5 });
  const acl = Buffer.from('02000000' + '01000600ffffffff' + '04000400ffffffff' + '20000000ffffffff', 'hex');
  await fs.setxattr(f.ino, 'system.posix_acl_access', acl, 0);
  await assert.rejects(fs.setxattr(f.ino, 'system.posix_acl_access', acl, 1), (e: unknown) => e instanceof FsError && e.code === 'EEXIST');
  const c = await fs.mknod(fs.rootIno, 'cdev', 0o020640, ((0x12 & 0xff) | (300 << 8) | ((0x12345 & ~0xff) << 12)) >>> 0, 0, 0);
  const b = await fs.mknod(fs.rootIno, 'bdev', 0o060600, (8 << 8) | 1, 0, 0);
  await fs.mknod(fs.rootIno, 'fifo2', 0o010644, 0, 0, 0);
  await fs.symlink(fs.rootIno, 'slow', 'a/'.repeat(80), 0, 0);
  const big = await fs.create(fs.rootIno, 'sparse', 0o644, 0, 0);
  // A write far out makes a large hole; a file past 4 GiB needs the high size word.
  await fs.write(big.ino, 5 * 2 ** 30, Buffer.from('far'));
  await assert.rejects(fs.link((await resolvePath(fs, '/many')).ino, fs.rootIno, 'dirlink'), (e: unknown) => e instanceof FsError && e.code === 'EPERM');
  await assert.rejects(fs.mkdir(fs.rootIno, 'attrs', 0o755, 0, 0), (e: unknown) => e instanceof FsError && e.code === 'EEXIST');
  await assert.rejects(fs.rmdir(fs.rootIno, 'dir'), (e: unknown) => e instanceof FsError && e.code === 'ENOTEMPTY');
  await fs.close();
  await dev.close();
  await fsck(image);
  // `cat` prints no newline, so it goes last.
  const [st, cst, bst, ea, sp, sl] = await debugfsBatch(image, ['stat /attrs', 'stat /cdev', 'stat /bdev', 'ea_get /attrs system.posix_acl_access', 'stat /sparse', 'cat /slow']);
  assert.match(st!, /User: 70000\s+Group: 80001/);
  assert.match(st!, /Mode:\s+04751/);
  assert.match(st!, / atime: 0x00000005:1d6f3455/);
  assert.match(st!, / mtime: 0xffffff9c:00000014/);
  assert.match(cst!, /Device major\/minor number: 300:74514/);
  assert.match(bst!, /Device major\/minor number: 08:01/);
  // debugfs prints the short-tag ids as 0; the tags and permissions are what we stored.
  assert.match(ea!, /= 02 00 00 00 01 00 06 00 00 00 00 00 04 00 04 00 00 00 00 00 20 00 00 00 00 00 00 00/);
  assert.equal(sl!.trim(), 'a/'.repeat(80));
  assert.match(sp!, new RegExp(`Size: ${5 * 2 ** 30 + 3}\\b`));
  const ro = await RawFile.open(image);
  const fs2 = await ext4Driver.open(ro);
  assert.deepEqual(await fs2.getxattr(f.ino, 'system.posix_acl_access'), acl);
  assert.equal((await fs2.getattr(c.ino)).rdev, ((0x12 & 0xff) | (300 << 8) | ((0x12345 & ~0xff) << 12)) >>> 0);
  assert.equal((await fs2.getattr(b.ino)).rdev, (8 << 8) | 1);
  assert.equal(await fs2.readlink((await resolvePath(fs2, '/slow', false)).ino), 'a/'.repeat(80));
  assert.deepEqual(await fs2.read(big.ino, 5 * 2 ** 30 - 2, 10), Buffer.from('\0\0far'));
  assert.deepEqual((await fs2.extents(big.ino)).map((e) => e.hole), [true, false]);
  await ro.close();
});

test('ext4 write: inline-data files and directories are moved to blocks when they change', async () => {
  const { image: base, src } = await variantImage(VARIANTS.find((x) => x.name === 'ext4-inline')!);
  const image = join(await scratch('ext4-write-inline'), 'fs.img');
  await copyFile(base, image);
  const before = await debugfsBatch(image, ['stat /tiny.txt', 'stat /dir/nested']);
  assert.match(before[0]!, /Flags: 0x10000000/);
  assert.match(before[1]!, /Flags: 0x10000000/);
  const dev = await RawFile.open(image, true);
  const fs = await ext4Driver.open(dev, { writable: true });
  const tiny = await ino(fs, '/tiny.txt');
  await fs.write(tiny, 17, Buffer.from('x'.repeat(5000)));
  const medium = await ino(fs, '/medium.txt');
  await fs.truncate(medium, 10);
  const nested = await ino(fs, '/dir/nested');
  await fs.create(nested, 'added', 0o644, 0, 0);
  await fs.rename(await ino(fs, '/dir'), 'nested', fs.rootIno, 'moved');
  await fs.unlink(await ino(fs, '/moved'), 'deep.txt');
  await fs.close();
  await dev.close();
  await fsck(image);
  const ro = await RawFile.open(image);
  const fs2 = await ext4Driver.open(ro);
  assert.equal((await readFile(fs2, '/tiny.txt')).toString(), 'tiny inline file\n' + 'x'.repeat(5000));
  assert.deepEqual(await readFile(fs2, '/medium.txt'), (await readHost(join(src, 'medium.txt'))).subarray(0, 10));
  assert.deepEqual((await fs2.readdir(await ino(fs2, '/moved'))).map((e) => e.name), ['added']);
  assert.equal((await fs2.lookup(await ino(fs2, '/moved'), '..')).ino, fs2.rootIno);
  await ro.close();
  const names = parseLs((await debugfsBatch(image, ['ls -l /moved']))[0]!);
  assert.deepEqual([...names.keys()].sort(), ['.', '..', 'added']);
});

test('ext2 write: block maps through direct, single, double and triple indirect blocks', async () => {
  const image = await freshImage('ext2-indirect', ['mkfs.ext2', '-b', '1024']);
  const dev = await RawFile.open(image, true);
  const fs = await ext4Driver.open(dev, { writable: true });
  const f = await fs.create(fs.rootIno, 'deep', 0o644, 0, 0);
  // 1 KiB blocks: direct < 12 KiB, single < 268 KiB, double < 64.3 MiB, triple beyond.
  const spots = [0, 100 << 10, 5 << 20, 70 << 20];
  for (const at of spots) await fs.write(f.ino, at, Buffer.from(`data@${at}`));
  await fs.truncate(f.ino, (70 << 20) + 3000);
  const g = await fs.create(fs.rootIno, 'shrink', 0o644, 0, 0);
  await fs.write(g.ino, 0, Buffer.alloc(300 << 10, 9));
  await fs.truncate(g.ino, 5000);
  await fs.close();
  await dev.close();
  await fsck(image);
  const ro = await RawFile.open(image);
  const fs2 = await ext4Driver.open(ro);
  for (const at of spots) assert.equal((await fs2.read(f.ino, at, 20)).toString().replace(/\0+$/, ''), `data@${at}`);
  assert.equal((await fs2.getattr(f.ino)).size, (70 << 20) + 3000);
  assert.deepEqual(await readFile(fs2, '/shrink'), Buffer.alloc(5000, 9));
  await ro.close();
  const [st] = await debugfsBatch(image, ['stat /deep']);
  assert.match(st!, /TIND/);
  assert.equal((await run('debugfs', ['-R', `cat /deep`, image])).length, (70 << 20) + 3000);
});

test('ext4 write: a fragmented file grows a depth-2 extent tree, then shrinks back', async () => {
  const image = await freshImage('ext4-deep-tree', ['mkfs.ext4', '-b', '1024']);
  const dev = await RawFile.open(image, true);
  const fs = unlocked(await ext4Driver.open(dev, { writable: true })) as Ext4Writer;
  const f = await fs.create(fs.rootIno, 'frag', 0o644, 0, 0);
  // One-block extents with holes between: 1 KiB leaves hold 84, the root 4 → depth 2 past 336.
  const N = 400;
  for (let i = 0; i < N; i++) await fs.write(f.ino, i * 2048, Buffer.from([i & 0xff, 1 + (i >> 8)]));
  assert.equal((await fs.fs.inodes.get(f.ino)).iBlock.readUInt16LE(6), 2, 'root depth');
  await fs.close();
  await dev.close();
  await fsck(image);
  const ro = await RawFile.open(image);
  const fs2 = await ext4Driver.open(ro);
  for (let i = 0; i < N; i += 37) assert.deepEqual(await fs2.read(f.ino, i * 2048, 3), Buffer.from([i & 0xff, 1 + (i >> 8), 0]));
  assert.equal((await fs2.extents(f.ino)).filter((e) => !e.hole).length, N);
  await ro.close();
  const dev3 = await RawFile.open(image, true);
  const fs3 = unlocked(await ext4Driver.open(dev3, { writable: true })) as Ext4Writer;
  await fs3.truncate(f.ino, 3000);
  assert.equal((await fs3.fs.inodes.get(f.ino)).iBlock.readUInt16LE(6), 0, 'root depth after shrinking');
  await fs3.close();
  await dev3.close();
  await fsck(image);
});

test('ext4 write: allocations spill into never-used (BLOCK_UNINIT / INODE_UNINIT) groups', async () => {
  const image = await freshImage('ext4-uninit', ['mkfs.ext4', '-b', '1024'], '600M');
  assert.match(await run('dumpe2fs', [image]), /BLOCK_UNINIT/);
  const dev = await RawFile.open(image, true);
  const fs = await ext4Driver.open(dev, { writable: true });
  const big = await fs.create(fs.rootIno, 'big', 0o644, 0, 0);
  const chunk = Buffer.alloc(1 << 20, 0x5a);
  // 40 MiB of 1 KiB blocks crosses five 8 MiB groups.
  for (let i = 0; i < 40; i++) await fs.write(big.ino, i << 20, chunk);
  for (let d = 0; d < 20; d++) {
    const x = await fs.mkdir(fs.rootIno, `d${d}`, 0o755, 0, 0);
    for (let j = 0; j < 20; j++) await fs.create(x.ino, `f${j}`, 0o644, 0, 0);
  }
  await fs.truncate(big.ino, 10 << 20);
  await fs.close();
  await dev.close();
  await fsck(image);
  assert.equal((await run('debugfs', ['-R', 'cat /big', image])).length, 10 << 20);
});

test('ext4 write: a growing htree gains an index level, then splits index nodes (1 KiB blocks)', async () => {
  const { image, dev, fs } = await writableCopy('ext4-htree-grow', 'ext4-1k');
  const many = await ino(fs, '/many');
  const levels = async (fsx: Filesystem): Promise<number> => {
    const e = (unlocked(fsx) as Ext4Writer).fs;
    const dir = await e.inodes.get(many);
    const r = await e.inodes.fileMap(dir).map(0, 1);
    const root = await e.io.readBlocks(r.pblk, 1);
    // indirect_levels, and how many index entries the root holds.
    return root.readUInt8(0x1e) * 1000 + root.readUInt16LE(0x22);
  };
  assert.ok((await levels(fs)) < 1000, 'no index level below the root yet');
  // Long names fill 1 KiB leaves fast: four entries each.
  const added: string[] = [];
  for (let i = 0; i < 1100; i++) {
    const n = `grow-${i}-${'z'.repeat(190)}`;
    await fs.create(many, n, 0o644, 0, 0);
    added.push(n);
  }
  const grown = await levels(fs);
  assert.equal(Math.floor(grown / 1000), 1, 'one index level below the root');
  assert.ok(grown % 1000 >= 2, `the level-1 node was split (root holds ${grown % 1000} entries)`);
  await fs.close();
  await dev.close();
  await fsck(image);
  const [ls, st] = await debugfsBatch(image, ['ls -l /many', 'stat /many']);
  assert.match(st!, /Flags: 0x81000/);
  const names = parseLs(ls!);
  assert.equal(names.size - 2, 400 + 1100);
  const ro = await RawFile.open(image);
  const fs2 = unlocked(await ext4Driver.open(ro)) as Ext4Fs;
  const dir = await fs2.inodes.get(many);
  for (const n of added) assert.equal((await fs2.dirs.htreeLookup(dir, Buffer.from(n)))?.ino, names.get(n), `index finds ${n.slice(0, 12)}`);
  await ro.close();
});
