import assert from 'node:assert/strict';
import { copyFile, mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { RawFile } from '../../../disk/raw.js';
import { ext4Driver } from '../../../fs/ext4/driver.js';
import { readFile } from '../../../fs/path.js';
import { fixture, scratch } from '../../fixtures/cache.js';
import { hashFile, run } from '../../fixtures/run.js';
import { e2fsck } from './images.js';

const ESCAPED = Buffer.concat([Buffer.from('c03b3998', 'hex'), Buffer.from('escaped')]);

interface JVariant {
  name: string;
  mkfs: string[];
  jo: string;
}
const JVARIANTS: JVariant[] = [
  { name: 'ext4-csum-v3', mkfs: ['mkfs.ext4', '-b', '1024'], jo: 'jo -c' },
  { name: 'ext3-nocsum', mkfs: ['mkfs.ext3', '-b', '4096'], jo: 'jo' },
  { name: 'ext4-csum-v2', mkfs: ['mkfs.ext4', '-b', '4096'], jo: 'jo -c -v 2' },
];

/**
 * A dirty journal written by debugfs: transaction 1 rewrites a.txt's and b.txt's blocks,
 * transaction 2 revokes b.txt's block, transaction 3 (c.txt) never commits.
 */
async function dirtyImage(v: JVariant): Promise<{ image: string; blocks: Record<string, number>; bs: number }> {
  const recipe = JSON.stringify(v) + dirtyImage.toString();
  const dir = await fixture(`ext4-journal-${v.name}`, recipe, async (out) => {
    await mkdir(join(out, 'src'), { recursive: true });
    for (const f of ['a', 'b', 'c', 'd']) await writeFile(join(out, 'src', `${f}.txt`), `original-${f.toUpperCase()}\n`);
    const image = join(out, 'fs.img');
    await run('truncate', ['-s', '32M', image]);
    await run(v.mkfs[0]!, [...v.mkfs.slice(1), '-q', '-F', '-d', join(out, 'src'), image]);
    const bs = Number(/Block size:\s+(\d+)/.exec(await run('dumpe2fs', ['-h', image]))![1]);
    const blk: Record<string, number> = {};
    for (const f of ['a', 'b', 'c', 'd']) blk[f] = Number((await run('debugfs', ['-R', `bmap /${f}.txt 0`, image])).trim());
    // d.txt's new block starts with the jbd2 magic, so the journal stores it escaped.
    await writeFile(join(out, 'new1'), Buffer.concat([Buffer.from('journaled-A\n'), Buffer.alloc(bs - 12), Buffer.from('journaled-B\n'), Buffer.alloc(bs - 12), ESCAPED, Buffer.alloc(bs - ESCAPED.length)]));
    await writeFile(join(out, 'new2'), Buffer.concat([Buffer.from('uncommitted-C\n'), Buffer.alloc(bs - 14)]));
    await run('debugfs', ['-w', '-f', '-', image], {
      input: [v.jo, `jw -b ${blk.a},${blk.b},${blk.d} ${join(out, 'new1')}`, `jw -r ${blk.b} ${join(out, 'new2')}`, `jw -c -b ${blk.c} ${join(out, 'new2')}`, 'jc'].join('\n'),
    });
    await writeFile(join(out, 'blocks.json'), JSON.stringify({ blk, bs }));
  });
  const { blk, bs } = JSON.parse(await (await import('node:fs/promises')).readFile(join(dir, 'blocks.json'), 'utf8')) as { blk: Record<string, number>; bs: number };
  return { image: join(dir, 'fs.img'), blocks: blk, bs };
}

async function contents(image: string, writable = false, files = ['a', 'b', 'c']): Promise<string[]> {
  const dev = await RawFile.open(image, writable);
  const warnings: string[] = [];
  const fs = await ext4Driver.open(dev, { writable, warn: (m) => warnings.push(m) });
  const out = [];
  for (const f of files) out.push((await readFile(fs, `/${f}.txt`)).toString());
  await fs.close();
  await dev.close();
  return out;
}

for (const v of JVARIANTS) {
  test(`ext4 journal (${v.name}): read-only replay in memory matches e2fsck's replay, image untouched`, async () => {
    const { image, blocks, bs } = await dirtyImage(v);
    assert.match(await run('dumpe2fs', ['-h', image]), /needs_recovery/);
    const before = await hashFile(image);
    const ours = await contents(image);
    assert.deepEqual(ours, ['journaled-A', 'original-B\n', 'original-C\n']);
    assert.match(await run('debugfs', ['-R', 'logdump -a', image]), /logged at journal block \d+ \(flags 0xb\)/, 'd.txt is journaled escaped (0x1), same-uuid (0x2) and last (0x8)');
    const dev = await RawFile.open(image);
    assert.deepEqual(await readFile(await ext4Driver.open(dev, { warn: () => undefined }), '/d.txt'), ESCAPED, 'escaped block restored');
    await dev.close();
    assert.equal(await hashFile(image), before, 'read-only open wrote to the image');
    // The device itself still holds the old bytes: the replay lived in memory only.
    const fh = await open(image, 'r');
    const raw = Buffer.alloc(11);
    await fh.read(raw, 0, 11, blocks.a! * bs);
    await fh.close();
    assert.equal(raw.toString(), 'original-A\n');
    // e2fsck's replay gives the same files.
    const dir = await scratch('ext4-journal');
    const copy = join(dir, 'fsck.img');
    await copyFile(image, copy);
    await e2fsck(['-fy', copy]);
    const theirs = [];
    for (const f of ['a', 'b', 'c']) theirs.push(await run('debugfs', ['-R', `cat /${f}.txt`, copy]));
    assert.deepEqual(theirs, ours);
  });

  test(`ext4 journal (${v.name}): a bad commit checksum or a broken sequence ends the log there`, async () => {
    const { image, bs } = await dirtyImage(v);
    const dir = await scratch('ext4-journal-bad');
    const copy = join(dir, 'bad.img');
    await copyFile(image, copy);
    // Find transaction 2's commit block (logdump names journal blocks) and damage it.
    const log = await run('debugfs', ['-R', 'logdump', copy]);
    const jblock = Number(/sequence 2, type 2 \(commit block\) at block (\d+)/.exec(log)![1]);
    const phys = Number((await run('debugfs', ['-R', `bmap <8> ${jblock}`, copy])).trim());
    const fh = await open(copy, 'r+');
    // Past the header: the checksum (csum v3) or, without checksums, the sequence number.
    await fh.write(Buffer.from([0xff, 0xff]), 0, 2, phys * bs + (v.jo === 'jo' ? 10 : 16));
    await fh.close();
    // Transaction 1 still replays; transaction 2 (the revoke) is gone, so b.txt is journaled too.
    assert.deepEqual(await contents(copy), ['journaled-A', 'journaled-B', 'original-C\n']);
  });
}

test('ext4 journal: a writable open replays into the image, clears needs_recovery, e2fsck is clean', async () => {
  const { image } = await dirtyImage(JVARIANTS[0]!);
  const dir = await scratch('ext4-journal-rw');
  const copy = join(dir, 'rw.img');
  await copyFile(image, copy);
  assert.deepEqual(await contents(copy, true), ['journaled-A', 'original-B\n', 'original-C\n']);
  assert.doesNotMatch(await run('dumpe2fs', ['-h', copy]), /needs_recovery/);
  assert.match(await run('dumpe2fs', ['-h', copy]), /Journal start:\s+0\b/);
  await e2fsck(['-fn', copy]);
  assert.equal(await run('debugfs', ['-R', 'cat /a.txt', copy]), 'journaled-A');
  assert.deepEqual(await contents(copy), ['journaled-A', 'original-B\n', 'original-C\n']);
});

/**
 * Revokes across transactions, written by debugfs from journal sequence `start`:
 * T0 writes a, b and d, T1 revokes all three, T2 writes a again, T3 (never committed) revokes b again
 * and writes c. jbd2 keeps T1's revoke of b (only committed revokes count) and replays T2's a
 * (written after the revoke); from 0xfffffffe the sequence numbers wrap to 0 at T2.
 */
async function revokeImage(start: number): Promise<string> {
  const recipe = `revokes ${start}\n` + revokeImage.toString();
  const dir = await fixture(`ext4-journal-revoke-${start.toString(16)}`, recipe, async (out) => {
    await mkdir(join(out, 'src'), { recursive: true });
    for (const f of ['a', 'b', 'c', 'd']) await writeFile(join(out, 'src', `${f}.txt`), `original-${f.toUpperCase()}\n`);
    const image = join(out, 'fs.img');
    await run('truncate', ['-s', '32M', image]);
    await run('mkfs.ext4', ['-q', '-F', '-b', '1024', '-d', join(out, 'src'), image]);
    const blk: Record<string, number> = {};
    for (const f of ['a', 'b', 'c', 'd']) blk[f] = Number((await run('debugfs', ['-R', `bmap /${f}.txt 0`, image])).trim());
    // The journal is clean and has no checksum yet: set its first sequence number in place.
    const jsb = Number((await run('debugfs', ['-R', 'bmap <8> 0', image])).trim());
    const seq = Buffer.alloc(4);
    seq.writeUInt32BE(start);
    const fh = await open(image, 'r+');
    await fh.write(seq, 0, 4, jsb * 1024 + 0x18);
    await fh.close();
    const block = (s: string): Buffer => Buffer.concat([Buffer.from(s), Buffer.alloc(1024 - s.length)]);
    await writeFile(join(out, 'abd'), Buffer.concat([block('journaled-A\n'), block('journaled-B\n'), block('journaled-D\n')]));
    await writeFile(join(out, 'a2'), block('rewritten-A\n'));
    await writeFile(join(out, 'c'), block('uncommitted-C\n'));
    const script = ['jo -c', `jw -b ${blk.a},${blk.b},${blk.d} ${join(out, 'abd')}`, `jw -r ${blk.a},${blk.b},${blk.d} ${join(out, 'a2')}`, `jw -b ${blk.a} ${join(out, 'a2')}`, `jw -c -r ${blk.b} -b ${blk.c} ${join(out, 'c')}`, 'jc'];
    await run('debugfs', ['-w', '-f', '-', image], { input: script.join('\n') });
  });
  return join(dir, 'fs.img');
}

for (const start of [1, 0xfffffffe]) {
  test(`ext4 journal: a committed revoke holds when an uncommitted one follows, sequence from 0x${start.toString(16)} (as e2fsck replays)`, async () => {
    const image = await revokeImage(start);
    const log = await run('debugfs', ['-R', 'logdump', image]);
    assert.match(log, new RegExp(`transaction ${start}\\b`));
    assert.match(log, /sequence 0, type 2 \(commit block\)|sequence 3, type 2 \(commit block\)/);
    const ours = await contents(image, false, ['a', 'b', 'c', 'd']);
    const dir = await scratch('ext4-journal-revoke');
    const copy = join(dir, 'fsck.img');
    await copyFile(image, copy);
    await e2fsck(['-fy', copy]);
    const theirs = [];
    for (const f of ['a', 'b', 'c', 'd']) theirs.push(await run('debugfs', ['-R', `cat /${f}.txt`, copy]));
    // a.txt keeps its size of 11 bytes.
    assert.deepEqual(theirs, ['rewritten-A', 'original-B\n', 'original-C\n', 'original-D\n']);
    assert.deepEqual(ours, theirs);
  });
}
