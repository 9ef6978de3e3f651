/**
 * Journaled writes checked by e2fsprogs: transactions as debugfs's logdump reads them, a clean
 * e2fsck after each checkpoint, and a log left committed but not checkpointed (the writer
 * stopped in between) that e2fsck's replay and our own read-only replay both bring back.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { RawFile } from '../../../disk/raw.js';
import { ext4Driver } from '../../../fs/ext4/driver.js';
import type { Ext4Writer } from '../../../fs/ext4/ext4-writer.js';
import type { Filesystem } from '../../../fs/filesystem.js';
import { unlocked } from '../../../fs/locked.js';
import { readFile } from '../../../fs/path.js';
import { fixture, scratch } from '../../fixtures/cache.js';
import { run, runStatus } from '../../fixtures/run.js';

interface Variant {
  name: string;
  mkfs: string[];
  /**
   * debugfs's journal open that sets the journal's features as the kernel's first mount does
   * (mkfs leaves them for it to set): checksum version and 64-bit tags.
   */
  jo?: string;
  features: RegExp;
}
const VARIANTS: Variant[] = [
  { name: 'ext4-csum-v3-1k', mkfs: ['mkfs.ext4', '-b', '1024'], jo: 'jo -c', features: /journal_64bit journal_checksum_v3/ },
  { name: 'ext4-csum-v2-4k', mkfs: ['mkfs.ext4', '-b', '4096'], jo: 'jo -c -v 2', features: /journal_64bit journal_checksum_v2/ },
  { name: 'ext3-nocsum-4k', mkfs: ['mkfs.ext3', '-b', '4096'], features: /Journal features:\s+\(none\)/ },
];

async function image(v: Variant): Promise<string> {
  const dir = await fixture(`ext4-jwrite-${v.name}`, JSON.stringify(v.mkfs) + v.jo + image.toString(), async (out) => {
    await mkdir(join(out, 'src'), { recursive: true });
    await writeFile(join(out, 'src', 'old.txt'), 'old file\n');
    const img = join(out, 'fs.img');
    await run('truncate', ['-s', '64M', img]);
    await run(v.mkfs[0]!, [...v.mkfs.slice(1), '-q', '-F', '-d', join(out, 'src'), img]);
    if (v.jo) await run('debugfs', ['-w', '-f', '-', img], { input: `${v.jo}\njc\n` });
  });
  return join(dir, 'fs.img');
}

/** A batch of changes of every kind: files, data, a directory, a rename, an unlink, an xattr. */
async function changes(fs: Filesystem, tag: string): Promise<void> {
  const d = await fs.mkdir(fs.rootIno, `dir-${tag}`, 0o755, 0, 0);
  for (let i = 0; i < 20; i++) {
    const f = await fs.create(d.ino, `f${i}`, 0o644, 0, 0);
    await fs.write(f.ino, 0, Buffer.from(`${tag} ${i}\n`.repeat(300)));
  }
  await fs.rename(d.ino, 'f0', fs.rootIno, `moved-${tag}`);
  await fs.unlink(d.ino, 'f1');
  await fs.setxattr(d.ino, 'user.tag', Buffer.from(tag), 0);
  // A truncate logs the zeroed tail block with the size; this one starts with the jbd2 magic,
  // so the journal keeps it escaped.
  const esc = await fs.create(fs.rootIno, `esc-${tag}`, 0o644, 0, 0);
  await fs.write(esc.ino, 0, ESCAPED_FILE);
  await fs.truncate(esc.ino, ESCAPED_SIZE);
}

/** 6000 bytes whose block at byte 4096 (on 1 KiB and 4 KiB blocks) starts with the jbd2 magic. */
const ESCAPED_FILE = Buffer.alloc(6000, 7);
Buffer.from('c03b3998', 'hex').copy(ESCAPED_FILE, 4096);
const ESCAPED_SIZE = 4200;

async function checkContent(fs: Filesystem, tag: string): Promise<void> {
  assert.equal((await readFile(fs, `/moved-${tag}`)).toString(), `${tag} 0\n`.repeat(300));
  assert.equal((await readFile(fs, `/dir-${tag}/f19`)).toString(), `${tag} 19\n`.repeat(300));
  await assert.rejects(readFile(fs, `/dir-${tag}/f1`), /ENOENT|no entry/);
  assert.deepEqual(await readFile(fs, `/esc-${tag}`), ESCAPED_FILE.subarray(0, ESCAPED_SIZE));
}

for (const v of VARIANTS) {
  test(`ext4 journaled writes (${v.name}): logdump shows each fsync's transaction, the log is empty and e2fsck clean after`, async () => {
    const src = await image(v);
    assert.match(await run('dumpe2fs', ['-h', src]), v.features);
    const img = join(await scratch(`ext4-jwrite-${v.name}`), 'fs.img');
    await copyFile(src, img);
    const seq0 = Number(/Journal sequence:\s+(0x[0-9a-f]+)/.exec(await run('dumpe2fs', ['-h', img]))![1]);
    const dev = await RawFile.open(img, true);
    const fs = await ext4Driver.open(dev, { writable: true });
    await changes(fs, 'a');
    await fs.fsync();
    // Checkpointed: needs_recovery is clear and the log empty, yet the transaction is in it.
    const head = await run('dumpe2fs', ['-h', img]);
    assert.doesNotMatch(head, /needs_recovery/);
    assert.match(head, /Journal start:\s+0\n/);
    const log = await run('debugfs', ['-R', 'logdump -O', img]);
    assert.match(log, new RegExp(`Found expected sequence ${seq0 + 1}, type 1 \\(descriptor block\\)`), log);
    assert.match(log, new RegExp(`Found expected sequence ${seq0 + 1}, type 2 \\(commit block\\)`), log);
    await run('e2fsck', ['-fn', img]);
    await changes(fs, 'b');
    await fs.close();
    await dev.close();
    await run('e2fsck', ['-fn', img]);
    // One transaction at least for the second batch (more if it ran past the commit interval).
    const seq1 = Number(/Journal sequence:\s+(0x[0-9a-f]+)/.exec(await run('dumpe2fs', ['-h', img]))![1]);
    assert.ok(seq1 >= seq0 + 3, `journal sequence ${seq1} after transactions from ${seq0 + 1}`);
    const ro = await RawFile.open(img);
    const rfs = await ext4Driver.open(ro);
    await checkContent(rfs, 'a');
    await checkContent(rfs, 'b');
    await ro.close();
  });

  test(`ext4 journaled writes (${v.name}): stopped between commit and checkpoint, e2fsck and our reader replay the log`, async () => {
    const img = join(await scratch(`ext4-jstop-${v.name}`), 'fs.img');
    await copyFile(await image(v), img);
    const dev = await RawFile.open(img, true);
    const fs = await ext4Driver.open(dev, { writable: true });
    await changes(fs, 'a');
    await fs.fsync();
    await changes(fs, 'b');
    const w = unlocked(fs) as Ext4Writer;
    w.stopAfterCommit();
    await assert.rejects(fs.fsync(), /stopped after commit/);
    await dev.close();
    const head = await run('dumpe2fs', ['-h', img]);
    assert.match(head, /needs_recovery/);
    assert.doesNotMatch(head, /Journal start:\s+0\n/);
    const log = await run('debugfs', ['-R', 'logdump -a', img]);
    assert.match(log, /type 1 \(descriptor block\)[\s\S]*FS block \d+ logged at journal block \d+[\s\S]*type 2 \(commit block\)/, log);
    // Our read-only open replays in memory and changes nothing.
    const ro = await RawFile.open(img);
    const warnings: string[] = [];
    const rfs = await ext4Driver.open(ro, { warn: (m) => warnings.push(m) });
    await checkContent(rfs, 'a');
    await checkContent(rfs, 'b');
    await ro.close();
    assert.match(warnings.join('\n'), /reading through an in-memory replay of 1 transaction/);
    // Our writable open replays it into a copy for real.
    const mine = join(dirname(img), 'ours.img');
    await copyFile(img, mine);
    const wdev = await RawFile.open(mine, true);
    const wfs = await ext4Driver.open(wdev, { writable: true });
    await checkContent(wfs, 'b');
    await wfs.close();
    await wdev.close();
    await run('e2fsck', ['-fn', mine]);
    // e2fsck's replay is all the image needs.
    const fix = await runStatus('e2fsck', ['-fy', img]);
    assert.ok(fix.code <= 1, fix.stdout);
    assert.match(fix.stdout, /recovering journal/);
    assert.doesNotMatch(fix.stdout, /\? yes$/m, fix.stdout);
    await run('e2fsck', ['-fn', img]);
    const after = await RawFile.open(img);
    const afs = await ext4Driver.open(after);
    await checkContent(afs, 'a');
    await checkContent(afs, 'b');
    await after.close();
  });
}
