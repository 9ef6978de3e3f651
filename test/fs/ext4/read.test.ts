import assert from 'node:assert/strict';
import { readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { RawFile } from '../../../disk/raw.js';
import { probeFilesystem } from '../../../fs/drivers.js';
import { ext4Driver } from '../../../fs/ext4/driver.js';
import type { Ext4Fs } from '../../../fs/ext4/ext4fs.js';
import type { Attr, Filesystem } from '../../../fs/filesystem.js';
import { resolvePath } from '../../../fs/path.js';
import { scratch } from '../../fixtures/cache.js';
import { hashFile, run } from '../../fixtures/run.js';
import { debugfsBatch, parseStat, refTime } from './debugfs-ref.js';
import { ACL_XATTR, pattern, SPARSE_AT, SPARSE_SIZE, VARIANTS, variantImage } from './images.js';
import { unlocked } from '../../../fs/locked.js';

const S_IFMT = 0o170000;
const TYPE_NAMES: Record<number, string> = { 0o100000: 'regular', 0o040000: 'directory', 0o120000: 'symlink', 0o020000: 'character special', 0o060000: 'block special', 0o010000: 'FIFO', 0o140000: 'socket' };

/** Every path below the root with its attributes, walked through readdir. */
async function walk(fs: Filesystem): Promise<Map<string, Attr>> {
  const out = new Map<string, Attr>();
  const visit = async (ino: number, prefix: string): Promise<void> => {
    for (const e of await fs.readdir(ino)) {
      const path = `${prefix}/${e.name}`;
      out.set(path, e.attr);
      if ((e.attr.mode & S_IFMT) === 0o040000) await visit(e.attr.ino, path);
    }
  };
  await visit(fs.rootIno, '');
  return out;
}

async function readAll(fs: Filesystem, attr: Attr): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let off = 0; off < attr.size; off += 1 << 20) parts.push(await fs.read(attr.ino, off, 1 << 20));
  return Buffer.concat(parts);
}

for (const v of VARIANTS) {
  test(`ext4 read (${v.name}): every file matches debugfs and the source tree`, async () => {
    const { image, src } = await variantImage(v);
    const before = await hashFile(image);
    const dev = await RawFile.open(image);
    const fs = await ext4Driver.open(dev);
    assert.equal(fs.type, v.type);
    assert.equal(fs.type, (await run('blkid', ['-o', 'value', '-s', 'TYPE', image])).trim(), 'type as blkid names it');
    assert.equal(fs.writable, false);
    assert.equal(fs.label(), `lbl-${v.name}`.slice(0, 16));
    assert.equal(fs.uuid(), '6f1c6a53-3b0c-4a4e-9a2e-5d7c1b2a3e4f');
    const tree = await walk(fs);
    const paths = [...tree.keys()];
    // The whole listing is the source tree's (mkfs -d copied it), plus mkfs's lost+found.
    const srcPaths = (await run('find', [src, '-mindepth', '1', '-printf', '/%P\\n'])).split('\n').filter(Boolean);
    assert.deepEqual(paths.filter((p) => p !== '/lost+found').sort(), srcPaths.sort(), `${v.name}: listing differs from find of the source tree`);
    assert.ok(tree.has('/many/entry-399-' + 'n'.repeat(399 % 40)));
    assert.equal(paths.filter((p) => p.startsWith('/many/')).length, 400);
    const outs = await debugfsBatch(image, paths.flatMap((p) => [`stat "${p}"`]));
    for (let i = 0; i < paths.length; i++) {
      const path = paths[i]!;
      const a = tree.get(path)!;
      const ref = parseStat(outs[i]!);
      const at = `${v.name} ${path}`;
      assert.equal(a.ino, ref.ino, `${at}: inode`);
      assert.equal(TYPE_NAMES[a.mode & S_IFMT], ref.type, `${at}: type`);
      assert.equal(a.mode & 0o7777, ref.mode, `${at}: mode`);
      assert.equal(a.uid, ref.uid, `${at}: uid`);
      assert.equal(a.gid, ref.gid, `${at}: gid`);
      assert.equal(a.size, ref.size, `${at}: size`);
      assert.equal(a.nlink, ref.links, `${at}: nlink`);
      assert.equal(a.blocks, ref.blockcount, `${at}: blocks`);
      for (const [k, t] of Object.entries({ atime: a.atime, mtime: a.mtime, ctime: a.ctime, crtime: a.birthtime })) {
        if (ref.times[k]) assert.deepEqual(t, refTime(ref.times[k]!), `${at}: ${k}`);
        else assert.equal(t, undefined, `${at}: ${k} absent`);
      }
      // Lookup by name agrees with readdir (htree directories go through the index).
      assert.deepEqual(await resolvePath(fs, path, false), a, `${at}: lookup`);
      const names = (await fs.listxattr(a.ino)).sort();
      assert.deepEqual(names, [...ref.xattrs.keys()].filter((n) => n !== 'system.data').sort(), `${at}: xattr names`);
      for (const n of names) {
        const val = await fs.getxattr(a.ino, n);
        if (n.startsWith('system.posix_acl')) assert.deepEqual(val, ACL_XATTR, `${at}: ${n}`);
        // debugfs cuts long values short in its listing; user.big is the file set with ea_set -f.
        else assert.deepEqual(val, n === 'user.big' ? pattern('bigx', 700) : ref.xattrs.get(n), `${at}: ${n}`);
      }
      const type = a.mode & S_IFMT;
      if (type === 0o100000) {
        assert.deepEqual(await readAll(fs, a), await readFile(join(src, path)), `${at}: content`);
      } else if (type === 0o120000) {
        const target = await fs.readlink(a.ino);
        assert.equal(target, await readlink(join(src, path)), `${at}: link target`);
        if (ref.fastLink !== undefined) assert.equal(target, ref.fastLink);
      } else if (type === 0o020000 || type === 0o060000) {
        const { major, minor } = ref.device!;
        assert.equal(a.rdev, ((minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12)) >>> 0, `${at}: rdev`);
      }
    }
    // htree directories: the index alone (no linear fallback) finds every name.
    const many = tree.get('/many')!;
    const manyRef = parseStat(outs[paths.indexOf('/many')]!);
    assert.equal((manyRef.flags & 0x1000) !== 0, v.htree === true, 'htree flag as built');
    if (v.htree) {
      const ext4 = unlocked(fs) as Ext4Fs;
      const dir = await ext4.inodes.get(many.ino);
      for (const p of paths.filter((q) => q.startsWith('/many/'))) {
        assert.deepEqual(await ext4.dirs.htreeLookup(dir, Buffer.from(p.slice(6))), { ino: tree.get(p)!.ino }, `htree lookup of ${p}`);
      }
      assert.deepEqual(await ext4.dirs.htreeLookup(dir, Buffer.from('no-such-name')), { ino: null });
    }
    if (v.name === 'ext4-inline') assert.equal(parseStat(outs[paths.indexOf('/tiny.txt')]!).flags & 0x10000000, 0x10000000, 'tiny.txt is inline');
    // Hard links share an inode.
    assert.equal(tree.get('/hard1')!.ino, tree.get('/dir/hard2')!.ino);
    assert.equal(tree.get('/hard1')!.nlink, 2);
    // Times past 2038 come from the extra epoch bits (only where the inode has them).
    if (v.name !== 'ext4-i128' && v.type !== 'ext2' && v.type !== 'ext3') {
      // debugfs stored base 0xffffffff (-1) with extra 0x121: epoch 1 (year 2106), 0x48 ns.
      assert.deepEqual(tree.get('/hello.txt')!.mtime, { sec: -1 + 2 ** 32, nsec: 0x48 });
    }
    // Sparse file: holes reported and read as zeros.
    const sp = tree.get('/sparse.bin')!;
    const ex = await fs.extents(sp.ino);
    assert.equal(ex.reduce((s, e) => s + e.length, 0), SPARSE_SIZE);
    assert.deepEqual(ex.filter((e) => !e.hole).map((e) => e.offset), SPARSE_AT);
    assert.ok(ex.some((e) => e.hole && e.length >= 4 << 20));
    assert.deepEqual(await fs.read(sp.ino, SPARSE_AT[1]! - 10, 20), Buffer.concat([Buffer.alloc(10), pattern(`sparse${SPARSE_AT[1]}`, 10)]));
    // statfs against dumpe2fs.
    const dump = await run('dumpe2fs', ['-h', image]).catch((e: Error) => e.message);
    const field = (n: string): number => Number(new RegExp(`^${n}:\\s+(\\d+)`, 'm').exec(dump)?.[1]);
    const st = await fs.statfs();
    assert.equal(st.blocks, field('Block count'));
    assert.equal(st.freeBlocks, field('Free blocks'));
    assert.equal(st.freeFiles, field('Free inodes'));
    assert.equal(st.files, field('Inode count'));
    assert.equal(st.blockSize, field('Block size'));
    await fs.close();
    await dev.close();
    assert.equal(await hashFile(image), before, 'read-only open changed the image');
  });
}

test('ext4 read: ea_inode values (xattr data kept in its own inode)', async () => {
  const dir = await scratch('ext4-ea-inode');
  const image = join(dir, 'fs.img');
  await writeFile(join(dir, 'value'), pattern('ea-inode', 4096));
  await writeFile(join(dir, 'f'), 'f\n');
  await run('truncate', ['-s', '32M', image]);
  await run('mkfs.ext4', ['-q', '-F', '-b', '4096', '-O', 'ea_inode', image]);
  await run('debugfs', ['-w', '-f', '-', image], { input: [`write ${join(dir, 'f')} f`, `ea_set -f ${join(dir, 'value')} f user.huge`, 'ea_set f user.small tiny'].join('\n') });
  await run('debugfs', ['-R', `ea_get -f ${join(dir, 'ref')} f user.huge`, image]);
  const dev = await RawFile.open(image);
  const fs = await ext4Driver.open(dev);
  const f = await resolvePath(fs, '/f');
  assert.deepEqual((await fs.listxattr(f.ino)).sort(), ['user.huge', 'user.small']);
  const value = await fs.getxattr(f.ino, 'user.huge');
  assert.deepEqual(value, await readFile(join(dir, 'ref')));
  assert.deepEqual(value, pattern('ea-inode', 4096));
  assert.equal((await fs.getxattr(f.ino, 'user.small')).toString(), 'tiny');
  // Values in EA inodes need their reference counts kept: such filesystems stay read-only.
  await dev.close();
  const wdev = await RawFile.open(image, true);
  await assert.rejects(ext4Driver.open(wdev, { writable: true }), /INCOMPAT 0x400 cannot be written/);
  await wdev.close();
});

test('ext4 probe: the superblock magic decides; registered in the driver list', async () => {
  const { image } = await variantImage(VARIANTS[0]!);
  const dev = await RawFile.open(image);
  assert.equal(await ext4Driver.probe(dev), true);
  assert.equal(await probeFilesystem(dev), ext4Driver);
  await dev.close();
  const blank = join(await scratch('ext4-probe'), 'zero.img');
  await writeFile(blank, Buffer.alloc(1 << 20));
  const zdev = await RawFile.open(blank);
  assert.equal(await ext4Driver.probe(zdev), false);
  assert.equal(await probeFilesystem(zdev), undefined);
  await assert.rejects(ext4Driver.open(zdev), /ext4 superblock: bad magic/);
  await zdev.close();
});
