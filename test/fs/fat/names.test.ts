import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fatImage, fsck, mtools, mtoolsTree, openFat, scratchCopy } from './tools.js';

async function fresh(type: 12 | 16 | 32, name: string): Promise<string> {
  const kib = { 12: 4096, 16: 20480, 32: 66000 }[type];
  return scratchCopy(await fatImage(`empty-fat${type}`, type, kib, async () => {}), name);
}

/** mdir's listing as [short name column, long name] pairs. */
async function mdirNames(img: string, dir: string): Promise<[string, string][]> {
  const out = await mtools('mdir', ['-i', img, dir]);
  const rows: [string, string][] = [];
  for (const line of out.split('\n')) {
    const m = /^(\S+)\s+(\S*)\s+(?:\d+|<DIR>)\s+\d{4}-\d\d-\d\d\s+\d+:\d\d\s?(.*)$/.exec(line);
    if (m) rows.push([m[2] ? `${m[1]}.${m[2]}` : m[1]!, m[3]!.trim()]);
  }
  return rows;
}

for (const type of [12, 16, 32] as const) {
  test(`fat${type}: 1,000 long names in one directory get aliases ~1..~9 then the hashed form; fsck and mtools agree`, async () => {
    const img = await fresh(type, `many${type}`);
    const { fs, close } = await openFat(img, true);
    const dir = await fs.mkdir(fs.rootIno, 'many', 0o755, 0, 0);
    const names = Array.from({ length: 1000 }, (_, i) => `Common Prefix Name ${i}.txt`);
    for (const [i, n] of names.entries()) {
      const a = await fs.create(dir.ino, n, 0o644, 0, 0);
      await fs.write(a.ino, 0, Buffer.from(`${i}`));
    }
    assert.equal((await fs.readdir(dir.ino)).length, 1000);
    await close();
    const check = await fsck(img);
    assert.equal(check.code, 0, check.stdout);
    const rows = await mdirNames(img, '::/many');
    assert.equal(rows.length, 1002);
    const byLong = new Map(rows.map(([s, l]) => [l, s]));
    for (let i = 0; i < 9; i++) assert.equal(byLong.get(names[i]!), `COMMON~${i + 1}.TXT`);
    for (let i = 9; i < 1000; i++) assert.match(byLong.get(names[i]!)!, /^CO[0-9A-F]{4}~[1-8]\.TXT$/);
    const tree = await mtoolsTree(img);
    assert.deepEqual(tree.filter((t) => !t.dir).map((t) => t.path).sort(), names.map((n) => `/many/${n}`).sort());
  });
}

test('fat16: new names are stored as Windows NT / Linux shortname=winnt store them', async () => {
  const img = await fresh(16, 'shortnames');
  const { fs, close } = await openFat(img, true);
  const made = ['readme.txt', 'README2.TXT', 'Readme3.txt', 'lower.TXT', 'name with space.txt', 'a+b.txt', '.hidden', 'dots.in.name.tar.gz', 'trailing dot.', 'ünï.txt', 'subdir'];
  for (const n of made.slice(0, -1)) await fs.create(fs.rootIno, n, 0o644, 0, 0);
  await fs.mkdir(fs.rootIno, 'subdir', 0o755, 0, 0);
  await assert.rejects(fs.create(fs.rootIno, 'README.TXT', 0o644, 0, 0), /EEXIST/);
  await assert.rejects(fs.create(fs.rootIno, 'bad?name', 0o644, 0, 0), /EINVAL/);
  await assert.rejects(fs.create(fs.rootIno, 'x'.repeat(256), 0o644, 0, 0), /ENAMETOOLONG/);
  const names = (await fs.readdir(fs.rootIno)).map((e) => e.name).sort();
  assert.deepEqual(names, [...made.slice(0, 8), 'trailing dot', 'ünï.txt', 'subdir'].sort());
  await close();
  assert.equal((await fsck(img)).code, 0);
  const rows = new Map((await mdirNames(img, '::/')).map(([s, l]) => [l || s, s]));
  assert.equal(rows.get('readme.txt'), 'readme.txt', 'lower-case 8.3: short entry with case flags, no long name');
  assert.equal(rows.get('README2.TXT'), 'README2.TXT');
  assert.equal(rows.get('Readme3.txt'), 'README3.TXT', 'mixed case: long name over the plain 8.3 name');
  assert.equal(rows.get('lower.TXT'), 'lower.TXT');
  assert.equal(rows.get('subdir'), 'subdir');
  assert.equal(rows.get('name with space.txt'), 'NAMEWI~1.TXT');
  assert.equal(rows.get('a+b.txt'), 'A_B~1.TXT');
  assert.equal(rows.get('.hidden'), 'HIDDEN~1');
  assert.equal(rows.get('dots.in.name.tar.gz'), 'DOTSIN~1.GZ');
  // Linux's to_shortname_char: ü upper-cases in code page 437, ï has no upper case there and stays.
  assert.equal(rows.get('ünï.txt'), 'ÜNï.TXT');
});

test('fat16: shortname=mixed (the Linux default) gives lower-case names a long name', async () => {
  const img = await fresh(16, 'mixed');
  const { fs, close } = await openFat(img, true, { shortname: 'mixed' });
  await fs.create(fs.rootIno, 'readme.txt', 0o644, 0, 0);
  await close();
  assert.deepEqual(await mdirNames(img, '::/'), [['README.TXT', 'readme.txt']]);
});

test('fat32: names outside the BMP, case-only renames, moved directories and times survive a reopen', async () => {
  const img = await fresh(32, 'reopen');
  let { fs, close } = await openFat(img, true);
  const a = await fs.create(fs.rootIno, 'emoji 😀 file.bin', 0o644, 0, 0);
  await fs.write(a.ino, 0, Buffer.from('smile'));
  const d1 = await fs.mkdir(fs.rootIno, 'one', 0o755, 0, 0);
  const d2 = await fs.mkdir(d1.ino, 'Two', 0o755, 0, 0);
  const f = await fs.create(d2.ino, 'inner.txt', 0o644, 0, 0);
  await fs.write(f.ino, 0, Buffer.from('inner'));
  await fs.rename(d1.ino, 'Two', fs.rootIno, 'two moved');
  await fs.rename(fs.rootIno, 'two moved', fs.rootIno, 'TWO MOVED');
  assert.equal((await fs.lookup(fs.rootIno, 'two moved')).ino, d2.ino, 'a renamed entry keeps its inode number');
  await assert.rejects(fs.rename(fs.rootIno, 'one', d1.ino, 'inside'), /EINVAL: cannot move \/one into itself/);
  const when = { sec: Date.UTC(2030, 0, 2, 3, 4, 6) / 1000, nsec: 0 };
  const atime = { sec: Date.UTC(2031, 5, 6, 7, 8, 9) / 1000, nsec: 0 };
  await fs.utimens(f.ino, atime, when);
  await fs.utimens(d1.ino, null, when);
  const before = Date.now() / 1000 - 5;
  await fs.create(d1.ino, 'new in one', 0o644, 0, 0);
  assert.ok((await fs.getattr(d1.ino)).mtime.sec >= before, 'adding an entry moves the directory mtime on');
  await close();
  ({ fs, close } = await openFat(img));
  const names = (await fs.readdir(fs.rootIno)).map((e) => e.name).sort();
  assert.deepEqual(names, ['TWO MOVED', 'emoji 😀 file.bin', 'one']);
  assert.ok((await fs.lookup(fs.rootIno, 'one')).mtime.sec >= before);
  const moved = await fs.lookup(fs.rootIno, 'two moved');
  const inner = await fs.lookup(moved.ino, 'INNER.TXT');
  assert.equal((await fs.read(inner.ino, 0, 10)).toString(), 'inner');
  assert.equal(inner.mtime.sec, when.sec);
  assert.equal(inner.atime.sec, Date.UTC(2031, 5, 6) / 1000, 'FAT keeps the access date only');
  assert.equal((await fs.read((await fs.lookup(fs.rootIno, 'EMOJI 😀 FILE.BIN')).ino, 0, 10)).toString(), 'smile');
  await close();
  const check = await fsck(img);
  assert.equal(check.code, 0, check.stdout);
  assert.match(await mtools('mdir', ['-i', img, '::/TWO MOVED']), /inner\s+txt\s+5 2030-01-02\s+3:04/);
});
