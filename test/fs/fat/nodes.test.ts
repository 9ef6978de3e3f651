/**
 * The FAT node table is bounded: walking many more entries than the bound keeps it at the
 * bound, and a number whose node was dropped still names the same entry (getattr, read,
 * readdir), also after renames, on an image made by mkfs.vfat and mtools and compared with them.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { RawFile } from '../../../disk/raw.js';
import type { Attr, Filesystem } from '../../../fs/filesystem.js';
import { FatFilesystem } from '../../../fs/fat/fat-fs.js';
import { FatWritable } from '../../../fs/fat/fat-writer.js';
import { fatImage, fsck, mtools, mtoolsTree, ourTree, scratchCopy } from './tools.js';

const BOUND = 100;
const DIRS = 8;
const FILES = 150;

const content = (d: number, i: number): Buffer => Buffer.from(`${d}/${i}\n`.repeat(i % 5));

function image(): Promise<string> {
  return fatImage('fat-nodes', 16, 16384, async (dir) => {
    for (let d = 0; d < DIRS; d++) {
      await mkdir(join(dir, `dir${d}`));
      for (let i = 0; i < FILES; i++) await writeFile(join(dir, `dir${d}`, `file-${String(i).padStart(4, '0')}.txt`), content(d, i));
    }
  });
}

async function open(img: string, writable: boolean): Promise<{ fs: FatFilesystem; close: () => Promise<void> }> {
  const dev = await RawFile.open(img, writable);
  const fs = await (writable ? FatWritable : FatFilesystem).open(dev, { writable }, BOUND);
  return { fs, close: async () => { await fs.close(); await dev.close(); } };
}

/** Every entry's attributes as readdir gives them, by path. */
async function walk(fs: Filesystem): Promise<Map<string, Attr>> {
  const out = new Map<string, Attr>();
  const go = async (ino: number, rel: string): Promise<void> => {
    for (const e of await fs.readdir(ino)) {
      out.set(`${rel}/${e.name}`, e.attr);
      if ((e.attr.mode & 0o170000) === 0o040000) await go(e.attr.ino, `${rel}/${e.name}`);
    }
  };
  await go(fs.rootIno, '');
  return out;
}

test('fat: walking far more entries than the node bound keeps the table at the bound; dropped numbers still resolve', async () => {
  const img = await image();
  const { fs, close } = await open(img, false);
  // The whole tree as mtools reads it: names, sizes, bytes (each file read by number after its listing).
  assert.deepEqual(await ourTree(fs), await mtoolsTree(img));
  assert.equal(fs.nodes.size, BOUND);
  const all = await walk(fs);
  assert.equal(all.size, DIRS * (FILES + 1));
  assert.equal(fs.nodes.size, BOUND);
  // Every number, most of them dropped by now, still gives its entry, and file bytes.
  for (const [path, attr] of all) {
    assert.deepEqual(await fs.getattr(attr.ino), attr, path);
    const m = /^\/dir(\d+)\/file-(\d+)\.txt$/.exec(path);
    if (m) assert.deepEqual(await fs.read(attr.ino, 0, 1000), content(Number(m[1]), Number(m[2])), path);
    else assert.equal((await fs.readdir(attr.ino)).length, FILES, path);
    assert.ok(fs.nodes.size <= BOUND);
  }
  // A number no entry holds.
  await assert.rejects(fs.getattr(all.get('/dir3/file-0007.txt')!.ino + 1), /ENOENT/);
  await close();
  // Numbers are the same on the next open.
  const again = await open(img, false);
  assert.deepEqual(await walk(again.fs), all);
  await again.close();
});

test('fat: a renamed entry keeps its number after the table dropped it; a new entry in its old slot gets another', async () => {
  const img = await scratchCopy(await image(), 'fat-nodes-rename');
  const { fs, close } = await open(img, true);
  const before = await walk(fs);
  const movedIno = before.get('/dir0/file-0003.txt')!.ino;
  const dir0 = before.get('/dir0')!.ino;
  const dir1 = before.get('/dir1')!.ino;
  await fs.rename(dir0, 'file-0003.txt', dir1, 'moved.txt');
  // Same slot count as the old name (one long-name slot and the short entry): it takes the freed slots.
  const fresh = await fs.create(dir0, 'file-new1.txt', 0o644, 0, 0);
  assert.notEqual(fresh.ino, movedIno);
  await fs.write(fresh.ino, 0, Buffer.from('new\n'));
  const movedDir = before.get('/dir5')!.ino;
  await fs.rename(fs.rootIno, 'dir5', dir1, 'dir5 moved');
  await walk(fs);
  assert.equal(fs.nodes.size, BOUND);
  assert.equal((await fs.lookup(dir1, 'moved.txt')).ino, movedIno);
  assert.deepEqual(await fs.read(movedIno, 0, 100), content(0, 3));
  await walk(fs);
  assert.deepEqual(await fs.read(fresh.ino, 0, 100), Buffer.from('new\n'));
  assert.equal((await fs.lookup(dir0, 'file-new1.txt')).ino, fresh.ino);
  assert.equal((await fs.readdir(movedDir)).length, FILES);
  assert.equal((await fs.lookup(dir1, 'dir5 moved')).ino, movedDir);
  await fs.unlink(dir0, 'file-new1.txt');
  await walk(fs);
  await assert.rejects(fs.getattr(fresh.ino), /ENOENT/);
  assert.deepEqual(await fs.read(movedIno, 0, 100), content(0, 3));
  await close();
  assert.equal((await fsck(img)).code, 0);
  const listing = await mtools('mdir', ['-b', '-/', '-i', img, '::/dir1']);
  assert.match(listing, /^::\/dir1\/moved\.txt$/m);
  assert.match(listing, /^::\/dir1\/dir5 moved\/file-0149\.txt$/m);
  const reopened = await open(img, false);
  assert.deepEqual(await ourTree(reopened.fs), await mtoolsTree(img));
  await reopened.close();
});
