import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RawFile } from '../../../disk/raw.js';
import { probeFilesystem } from '../../../fs/drivers.js';
import { resolvePath } from '../../../fs/path.js';
import { run } from '../../fixtures/run.js';
import { fatImage, mtools, mtoolsTree, openFat, ourTree } from './tools.js';
import { NAMES, pattern, writeTree } from './tree.js';

const IMAGES = [
  { type: 12 as const, kib: 8192, big: false },
  { type: 16 as const, kib: 32768, big: false },
  { type: 32 as const, kib: 300 * 1024, big: true },
];

function readImage(type: 12 | 16 | 32, kib: number, big: boolean): Promise<string> {
  return fatImage(`read-fat${type}`, type, kib, (dir) => writeTree(dir, { many: 1000, deep: 30, big }), ['-n', `FAT${type}VOL`]);
}

for (const { type, kib, big } of IMAGES) {
  const image = () => readImage(type, kib, big);

  test(`fat${type}: probe, label, uuid and statfs match mkfs.vfat and blkid`, async () => {
    const img = await image();
    const dev = await RawFile.open(img);
    assert.equal((await probeFilesystem(dev))?.type, 'vfat');
    await dev.close();
    const { fs, close } = await openFat(img);
    assert.equal(fs.type, 'vfat');
    const blkid = await run('blkid', ['-o', 'export', '-p', img]);
    assert.match(blkid, new RegExp(`^UUID=${fs.uuid()}$`, 'm'));
    assert.equal(fs.uuid(), '1234-ABCD');
    assert.match(blkid, new RegExp(`^LABEL=${fs.label()}$`, 'm'));
    assert.equal(fs.label(), `FAT${type}VOL`);
    assert.match(blkid, new RegExp(`^VERSION=FAT${type}$`, 'm'));
    const st = await fs.statfs();
    const minfo = await mtools('minfo', ['-i', img, '::']);
    const clusterSize = Number(/cluster size: (\d+) sectors/.exec(minfo)![1]) * Number(/sector size: (\d+)/.exec(minfo)![1]);
    assert.equal(st.blockSize, clusterSize);
    const free = Number(/([\d ]+) bytes free/.exec(await mtools('mdir', ['-i', img, '::/']))![1]!.replace(/ /g, ''));
    assert.equal(st.freeBlocks * st.blockSize, free);
    await close();
  });

  test(`fat${type}: the whole tree reads as mtools reads it (names, sizes, bytes, mtimes)`, async () => {
    const img = await image();
    const { fs, close } = await openFat(img);
    const ours = await ourTree(fs);
    const theirs = await mtoolsTree(img);
    assert.equal(ours.length, NAMES.length + 1 + 1000 + 30 + 1 + 1 + (big ? 1 : 0));
    // mcopy -m does not keep directory mtimes; compare them for files only.
    const strip = (t: typeof ours) => t.map((i) => (i.dir ? { ...i, mtime: 0 } : i));
    assert.deepEqual(strip(ours), strip(theirs));
    for (const name of NAMES) assert.ok(ours.some((i) => i.path === `/${name}`), name);
    await close();
  });

  test(`fat${type}: short names and case flags show as Linux vfat shows them; lookup ignores case`, async () => {
    const img = await image();
    const { fs, close } = await openFat(img);
    const names = (await fs.readdir(fs.rootIno)).map((e) => e.name);
    assert.ok(names.includes('hello.txt') && names.includes('README.TXT') && names.includes('lower.TXT') && names.includes('EMPTY'));
    const a = await fs.lookup(fs.rootIno, 'HELLO.TXT');
    assert.equal(a.ino, (await fs.lookup(fs.rootIno, 'hello.txt')).ino);
    assert.equal((await fs.read(a.ino, 0, 1 << 20)).equals(pattern(17, 1)), true);
    // The 8.3 alias mtools made finds the long-named file too.
    const alias = /^(\S+)\s+(\S+)\s.*MixedCase\.Txt$/m.exec(await mtools('mdir', ['-i', img, '::/']));
    assert.ok(alias, 'mdir lists the alias');
    assert.equal((await fs.lookup(fs.rootIno, `${alias[1]}.${alias[2]}`)).ino, (await fs.lookup(fs.rootIno, 'mixedcase.txt')).ino);
    await assert.rejects(fs.lookup(fs.rootIno, 'no such file'), /ENOENT/);
    const deep = await resolvePath(fs, `/${Array.from({ length: 30 }, (_, i) => `LEVEL ${i + 1}`).join('/')}/bottom.txt`);
    assert.equal((await fs.read(deep.ino, 0, 100)).toString(), 'the bottom\n');
    await close();
  });

  test(`fat${type}: attributes: modes from umask/fmask/dmask, uid/gid, stable inode numbers, times`, async () => {
    const img = await image();
    let { fs, close } = await openFat(img);
    const file = await fs.lookup(fs.rootIno, 'hello.txt');
    const dir = await fs.lookup(fs.rootIno, 'many');
    assert.equal(file.mode, 0o100755);
    assert.equal(dir.mode, 0o040755);
    assert.equal(file.nlink, 1);
    assert.equal((await fs.getattr(fs.rootIno)).nlink, 2 + 3 /* many, level 1, EMPTY */);
    assert.equal(file.mtime.sec, Date.UTC(2021, 5, 15, 12, 34, 58) / 1000);
    assert.equal(file.ino, (await fs.readdir(fs.rootIno)).find((e) => e.name === 'hello.txt')!.attr.ino);
    await close();
    ({ fs, close } = await openFat(img, false, { uid: '1000', gid: '100', fmask: '0133', dmask: '0022' }));
    const again = await fs.lookup(fs.rootIno, 'hello.txt');
    assert.equal(again.ino, file.ino, 'inode numbers are stable across opens');
    assert.equal(again.mode, 0o100644);
    assert.equal(again.uid, 1000);
    assert.equal(again.gid, 100);
    assert.equal((await fs.lookup(fs.rootIno, 'many')).mode, 0o040755);
    await close();
    ({ fs, close } = await openFat(img, false, { umask: '077' }));
    assert.equal((await fs.lookup(fs.rootIno, 'hello.txt')).mode, 0o100700);
    await close();
  });
}

test('fat32: the 100 MiB file reads back byte for byte, in odd-sized pieces, with extents', async () => {
  const img = await readImage(32, 300 * 1024, true);
  const { fs, close } = await openFat(img);
  const a = await fs.lookup(fs.rootIno, 'big file.bin');
  assert.equal(a.size, 100 << 20);
  const want = pattern(100 << 20, 99);
  const got = Buffer.concat([await fs.read(a.ino, 0, 12345), await fs.read(a.ino, 12345, (100 << 20) - 12345 + 999)]);
  assert.equal(got.equals(want), true);
  const ext = await fs.extents(a.ino);
  assert.equal(ext.reduce((s, e) => s + e.length, 0), 100 << 20);
  await close();
});
