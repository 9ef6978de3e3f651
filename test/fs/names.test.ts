/**
 * Hostile names: a directory entry named "", "/" or holding NUL (as fuzzed images hold them)
 * is skipped with a warning naming the directory and the entry's byte, on every driver; the
 * fsck of each filesystem flags the same entries.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { RawFile } from '../../disk/raw.js';
import { ext4Driver } from '../../fs/ext4/driver.js';
import { fatDriver } from '../../fs/fat/driver.js';
import type { FsDriver } from '../../fs/filesystem.js';
import { unlocked } from '../../fs/locked.js';
import { ntfsDriver } from '../../fs/ntfs/driver.js';
import type { NtfsFilesystem } from '../../fs/ntfs/ntfs.js';
import { resolvePath } from '../../fs/path.js';
import { fixture, scratch } from '../fixtures/cache.js';
import { run, runStatus } from '../fixtures/run.js';
import { withNtfs3g } from './ntfs/images.js';

/** Overwrite bytes of `image` where `find` first occurs (at `delta` from it). */
async function patchAt(image: string, find: Buffer, delta: number, bytes: Buffer, within?: { start: number; end: number }): Promise<number> {
  const img = await readFile(image);
  const from = within?.start ?? 0;
  const i = img.subarray(from, within?.end ?? img.length).indexOf(find);
  assert.ok(i >= 0, `${find.toString()} is in the image`);
  const at = from + i + delta;
  bytes.copy(img, at);
  await writeFile(image, img);
  return at;
}

async function listing(driver: FsDriver, image: string, dir: string): Promise<{ names: string[]; warnings: string[] }> {
  const dev = await RawFile.open(image);
  const warnings: string[] = [];
  const fs = await driver.open(dev, { warn: (m) => warnings.push(m) });
  const names = (await fs.readdir((await resolvePath(fs, dir)).ino)).map((e) => e.name).sort();
  await fs.close();
  await dev.close();
  return { names, warnings };
}

test('names: ext4 entries with name_len 0, "/" or a NUL are skipped with a warning, as e2fsck flags them', async () => {
  const base = await fixture('names-ext4', 'v1 mkfs.ext4 ^metadata_csum d/{good-first,bad-empty-name,bad-slash-name,bad-nul-name,good-last}', async (out) => {
    await mkdir(join(out, 'src', 'd'), { recursive: true });
    for (const n of ['good-first', 'bad-empty-name', 'bad-slash-name', 'bad-nul-name', 'good-last']) await writeFile(join(out, 'src', 'd', n), 'x\n');
    await run('truncate', ['-s', '8M', join(out, 'fs.img')]);
    // Without metadata_csum: with it, the patched block fails its checksum before any name is read.
    await run('mkfs.ext4', ['-q', '-F', '-O', '^metadata_csum', '-d', join(out, 'src'), join(out, 'fs.img')]);
  });
  const image = join(await scratch('names-ext4'), 'fs.img');
  await writeFile(image, await readFile(join(base, 'fs.img')));
  // ext4 dirent: inode (4), rec_len (2), name_len (1), file_type (1), name.
  const empty = await patchAt(image, Buffer.from('bad-empty-name'), -2, Buffer.from([0]));
  // name_len 1, file_type 1 (regular), name "/".
  const slash = await patchAt(image, Buffer.from('bad-slash-name'), -2, Buffer.from([1, 1, 0x2f]));
  await patchAt(image, Buffer.from('bad-nul-name'), 3, Buffer.from([0]));
  const fsck = await runStatus('e2fsck', ['-fn', image]);
  assert.match(fsck.stdout, /Entry '' in \/d \(\d+\) has a zero-length name/);
  assert.match(fsck.stdout, /Entry '\/' in \/d \(\d+\) has illegal characters in its name/);
  assert.match(fsck.stdout, /Entry 'bad\^@nul-name' in \/d \(\d+\) has illegal characters in its name/);
  const { names, warnings } = await listing(ext4Driver, image, '/d');
  assert.deepEqual(names, ['good-first', 'good-last']);
  assert.equal(warnings.length, 3, warnings.join('\n'));
  // The entry starts 8 bytes before its name (6 before name_len).
  assert.match(warnings.join('\n'), new RegExp(`directory inode \\d+ block 0: entry at byte ${empty - 6} has an empty name`));
  assert.match(warnings.join('\n'), new RegExp(`entry at byte ${slash - 6} has a name holding "/"`));
  assert.match(warnings.join('\n'), /has a name holding NUL \("bad\\u0000nul-name"\); skipped/);
});

test('names: a FAT 8.3 entry of blanks is skipped with a warning, one holding "/" never shows it; fsck.fat flags both', async () => {
  const base = await fixture('names-fat', 'v1 mkfs.vfat 8M D/{GOODA,BADBLANK,BADSLASH,GOODZ}.TXT', async (out) => {
    await mkdir(out, { recursive: true });
    const image = join(out, 'fs.img');
    await run('mkfs.vfat', ['-C', image, '8192']);
    await run('mmd', ['-i', image, '::/D']);
    await writeFile(join(out, 'x'), 'x\n');
    for (const n of ['GOODA.TXT', 'BADBLANK.TXT', 'BADSLASH.TXT', 'GOODZ.TXT']) await run('mcopy', ['-i', image, join(out, 'x'), `::/D/${n}`]);
  });
  const image = join(await scratch('names-fat'), 'fs.img');
  await writeFile(image, await readFile(join(base, 'fs.img')));
  const blank = await patchAt(image, Buffer.from('BADBLANKTXT'), 0, Buffer.alloc(11, 0x20));
  await patchAt(image, Buffer.from('BADSLASHTXT'), 0, Buffer.from('BAD/LASHTXT'));
  const fsck = await runStatus('fsck.fat', ['-n', image]);
  assert.match(fsck.stdout, /Bad short file name \(\)/);
  assert.match(fsck.stdout, /Bad short file name \(BAD\/LASH.TXT\)/);
  const { names, warnings } = await listing(fatDriver, image, '/D');
  // A "/" in a short name is shown as "_" (as the 8.3 decoding does for any character a name cannot hold).
  assert.deepEqual(names, ['BAD_LASH.TXT', 'GOODA.TXT', 'GOODZ.TXT']);
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0]!, new RegExp(`directory /D: entry at byte ${blank} has an empty name`));
});

test('names: NTFS index keys with a name of length 0 or "/" are skipped with a warning', async () => {
  const base = await fixture('names-ntfs.img', 'v1 mkntfs 16M hx/{good-first,bad-empty-name,bad-slash-name,good-last}', async (path) => {
    await run('truncate', ['-s', '16M', path]);
    await run('mkntfs', ['-F', '-Q', '-q', path]);
    await withNtfs3g(path, 'rw', (mnt) => run('bash', ['-c', 'mkdir hx && touch hx/good-first hx/bad-empty-name hx/bad-slash-name hx/good-last'], { cwd: mnt }));
  });
  const image = join(await scratch('names-ntfs'), 'fs.img');
  await writeFile(image, await readFile(base));
  const fs = unlocked(await ntfsDriver.open(await RawFile.open(image), {})) as NtfsFilesystem;
  const hx = (await resolvePath(fs, '/hx')).ino;
  const record = Number(fs.mft.dataStream.deviceOffset(hx * fs.mft.recordSize)!);
  const within = { start: record, end: record + fs.mft.recordSize };
  assert.equal((await fs.mft.file(hx)).has(0xa0, '$I30'), false, 'the index is all in the record (resident root)');
  await fs.dev.close();
  // $FILE_NAME key: name length at 64, namespace at 65, name (UTF-16) from 66; entry header 16 bytes.
  const empty = await patchAt(image, Buffer.from('bad-empty-name', 'utf16le'), -2, Buffer.from([0]), within);
  const slash = await patchAt(image, Buffer.from('bad-slash-name', 'utf16le'), -2, Buffer.from([1, 1, 0x2f, 0]), within);
  for (const at of [empty, slash]) assert.ok((at - record) % 512 < 508, 'not a fixup position');
  const { names, warnings } = await listing(ntfsDriver, image, '/hx');
  assert.deepEqual(names, ['good-first', 'good-last']);
  assert.equal(warnings.length, 2, warnings.join('\n'));
  assert.match(warnings.join('\n'), new RegExp(`MFT record ${hx} index \\$I30: entry at byte ${empty - 64 - 16} has an empty name`));
  assert.match(warnings.join('\n'), new RegExp(`MFT record ${hx} index \\$I30: entry at byte ${slash - 64 - 16} has a name holding "/"`));
});

test('names: the "." entry every NTFS root holds (record 5, itself) is hidden without a warning', async () => {
  const image = join(await scratch('names-ntfs-root'), 'fs.img');
  await run('truncate', ['-s', '16M', image]);
  await run('mkntfs', ['-F', '-Q', '-q', image]);
  // mkntfs writes the root's "." key, as Windows does: "." in UTF-16 after a length of 1.
  assert.ok((await readFile(image)).includes(Buffer.from([1, 3, 0x2e, 0])), 'the root index holds "."');
  const { names, warnings } = await listing(ntfsDriver, image, '/');
  assert.deepEqual(warnings, []);
  assert.ok(!names.includes('.'), names.join(' '));
});
