/**
 * ext4's commit interval through a real guestmount daemon: a write nobody fsyncs is committed
 * once the mount has been idle for the kernel's 5 s, so a SIGKILL after that loses nothing;
 * killed before it, the batch is lost whole and the image still checks clean.
 */
import assert from 'node:assert/strict';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { scratch } from '../fixtures/cache.js';
import { run, runStatus } from '../fixtures/run.js';
import { daemonPidOf, guestmount, sh, withMountpoint } from './helpers.js';
import { ext4Image } from './images.js';

/** Mount a copy of the ext4 image, write a file without fsync, wait `idleMs`, SIGKILL the daemon. */
async function writeIdleKill(name: string, idleMs: number): Promise<string> {
  const img = join(await scratch(name), 'disk.img');
  await copyFile(await ext4Image(), img);
  await withMountpoint(name, async (mnt) => {
    const m = await guestmount(['-a', img, '-m', '/dev/sda', '--rw', mnt]);
    assert.equal(m.code, 0, m.stderr);
    const pid = await daemonPidOf(mnt);
    assert.ok(pid, `a daemon serves ${mnt}`);
    await sh("mkdir idle && printf 'written, never synced\\n' > idle/new.txt", mnt);
    await sleep(idleMs);
    process.kill(pid, 'SIGKILL');
    await run('fusermount', ['-u', '-z', mnt]);
  });
  return img;
}

/** e2fsck -fy (exit 0 or 1: a replay at most), then -fn clean. */
async function checkClean(img: string): Promise<void> {
  const fix = await runStatus('e2fsck', ['-fy', img]);
  assert.ok(fix.code <= 1 && !/\? yes$/m.test(fix.stdout), `e2fsck -fy repaired more than a replay (exit ${fix.code}):\n${fix.stdout}`);
  const clean = await runStatus('e2fsck', ['-fn', img]);
  assert.equal(clean.code, 0, `e2fsck -fn: ${clean.stdout}`);
}

test('ext4 commit interval: an unsynced write is committed after 5 s idle, so a SIGKILL then keeps it', { timeout: 60_000 }, async () => {
  const img = await writeIdleKill('commit-idle', 8000);
  await checkClean(img);
  assert.equal(await run('debugfs', ['-R', 'cat /idle/new.txt', img]), 'written, never synced\n');
});

test('ext4 commit interval: killed before it, the unsynced batch is lost whole and the image checks clean', { timeout: 60_000 }, async () => {
  const img = await writeIdleKill('commit-early', 300);
  await checkClean(img);
  const ls = await run('debugfs', ['-R', 'ls -l /', img]);
  assert.doesNotMatch(ls, / idle\s*$/m, 'the directory made in the lost batch is not there');
  assert.match(ls, / hello\.txt\s*$/m, 'the image is otherwise as it was');
});
