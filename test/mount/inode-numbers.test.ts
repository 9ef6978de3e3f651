/**
 * The mount gives the kernel our inode numbers (use_ino): through a real guestmount, `find`
 * and `ls -R` report the hostile guest's self-linked directory and stop, and hard links show
 * one inode, the guest's own (as debugfs reads it). Several filesystems in one mount keep
 * distinct numbers.
 */
import assert from 'node:assert/strict';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { RawFile } from '../../disk/raw.js';
import { ext4Driver } from '../../fs/ext4/driver.js';
import { MountTable } from '../../guest/mounts.js';
import { InodeNumbers } from '../../mount/inode-numbers.js';
import { scratch } from '../fixtures/cache.js';
import { run } from '../fixtures/run.js';
import { hostileGuest } from '../hostile/images.js';
import { sh, withMount } from './helpers.js';
import { ext4Image } from './images.js';

/** The guest's inode number of `path`, as debugfs reads it. */
async function debugfsIno(img: string, path: string): Promise<number> {
  const out = await run('debugfs', ['-R', `stat ${path}`, img]);
  return Number(/^Inode: (\d+)/m.exec(out)![1]);
}

test('use_ino: find and ls -R report the self-linked directory and end; the link shows the guest inode', { timeout: 120_000 }, async () => {
  const img = await hostileGuest();
  await withMount('loop', ['-a', img, '-m', '/dev/sda', '--ro'], async (mnt) => {
    const find = await sh('timeout 30 find . 2>&1 >/dev/null && echo "exit 0" || echo "exit $?"', mnt);
    assert.match(find, /File system loop detected; .\.\/loopdir\/inner\/back. is part of the same file system loop as .\.\/loopdir./);
    assert.match(find, /exit 1$/m, 'find ends on its own (not killed by the timeout: exit 124)');
    const ls = await sh('timeout 30 ls -R . 2>&1 >/dev/null && echo "exit 0" || echo "exit $?"', mnt);
    assert.match(ls, /not listing already-listed directory/);
    assert.match(ls, /exit 2$/m);
    const [a, b] = (await sh('stat -c %i loopdir loopdir/inner/back', mnt)).trim().split('\n').map(Number);
    assert.equal(a, b);
    assert.equal(a, await debugfsIno(img, '/loopdir'));
  });
});

test('use_ino: a hard link made through the mount shows the same inode as its file, the one debugfs finds', { timeout: 120_000 }, async () => {
  const img = join(await scratch('hardlink'), 'disk.img');
  await copyFile(await ext4Image(), img);
  let shown: number[] = [];
  await withMount('hardlink', ['-a', img, '-m', '/dev/sda', '--rw'], async (mnt) => {
    shown = (await sh('ln hello.txt again.txt && stat -c %i hello.txt again.txt dir', mnt)).trim().split('\n').map(Number);
  });
  assert.equal(shown[0], shown[1]);
  assert.notEqual(shown[0], shown[2]);
  assert.equal(shown[0], await debugfsIno(img, '/again.txt'));
  assert.match(await run('debugfs', ['-R', 'stat /hello.txt', img]), /Links: 2/);
});

test('use_ino: two filesystems in one mount (/ and /boot) get distinct numbers; a lone one keeps its own', async () => {
  const dev = await RawFile.open(await ext4Image());
  const root = await ext4Driver.open(dev);
  const boot = await ext4Driver.open(dev);
  try {
    const one = new MountTable();
    one.add('/', root, '/dev/sda');
    assert.equal(new InodeNumbers(one).of(root, 2), 2);
    const two = new MountTable();
    two.add('/', root, '/dev/sda1');
    two.add('/boot', boot, '/dev/sda2');
    const n = new InodeNumbers(two);
    const seen = new Set<number>();
    for (const fs of [root, boot]) for (let ino = 1; ino < 5000; ino++) seen.add(n.of(fs, ino));
    assert.equal(seen.size, 2 * 4999, 'no two (filesystem, inode) pairs share a number');
    const windows = new MountTable();
    windows.add('/C', root, '/dev/sda1');
    windows.add('/D', boot, '/dev/sda2');
    const w = new InodeNumbers(windows);
    assert.equal(new Set([w.ofSynthetic('/'), w.of(root, 5), w.of(boot, 5)]).size, 3, 'the synthetic root, C: and D: roots differ');
    assert.equal(w.of(root, 2 ** 31), w.of(root, 2 ** 31), 'a number past 32 bits stays the same');
    assert.notEqual(w.of(root, 2 ** 31), w.of(boot, 2 ** 31));
    assert.ok(w.of(boot, 2 ** 31) < 2 ** 32);
  } finally {
    await root.close();
    await boot.close();
    await dev.close();
  }
});
