/**
 * The daemon's life: image locks against qemu and a second guestmount, guestunmount's exit
 * codes and retries, signals, a SIGKILL in the middle of writes, an unprivileged user, a file
 * manager's calls (gio), and the refusal to follow a probed image's backing file.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, chown, copyFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { copyImage } from '../fs/ntfs/images.js';
import { run, runStatus } from '../fixtures/run.js';
import { ext4Image } from './images.js';
import { daemonPidOf, forceUnmount, guestmount, guestmountCmd, guestmountJs, guestunmount, guestunmountJs, sh, withMount, withMountpoint } from './helpers.js';

const T = { timeout: 180_000 };

test('a read-write mount locks the image: a second guestmount and qemu-img are refused, --ro is not', T, async () => {
  const img = await copyImage(await ext4Image(), 'mount-lock');
  await withMount('lock1', ['-a', img, '-m', '/dev/sda'], async (_mnt, dir) => {
    const second = join(dir, 'second');
    await mkdir(second);
    try {
      const r = await guestmount(['-a', img, '-m', '/dev/sda', second]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /is in use by another process.*--ro/);
      const q = await runStatus('qemu-img', ['resize', '-f', 'raw', img, '+1M']);
      assert.notEqual(q.code, 0);
      assert.match(q.stderr, /Failed to get "write" lock/);
      // Looking in read-only takes no lock, as qemu-img -U does.
      const ro = await guestmount(['-a', img, '--ro', '-m', '/dev/sda', second]);
      assert.equal(ro.code, 0, ro.stderr);
      assert.equal(await sh('cat hello.txt', second), 'hello world\n');
    } finally {
      await forceUnmount(second);
    }
  });
  // Released with the mount: qemu-img may write again.
  await run('qemu-img', ['resize', '-f', 'raw', img, '+1M']);
});

test('guestunmount: 3 when not mounted (-q silent), 2 while busy, 0 once free; --pid-file and --fd', T, async () => {
  const img = await ext4Image();
  await withMountpoint('umount', async (mnt, dir) => {
    const notMounted = await guestunmount([mnt]);
    assert.equal(notMounted.code, 3);
    assert.match(notMounted.stderr, /is not mounted/);
    assert.equal((await guestunmount(['-q', mnt])).stderr, '');
    const pidFile = join(dir, 'pid');
    // --fd=3: guestmount writes one byte there once the mount is ready.
    const child = spawn(process.execPath, [guestmountJs, '-a', img, '--ro', '-m', '/dev/sda', '--pid-file', pidFile, '--fd=3', mnt], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
    const byte = await new Promise<string>((resolve) => child.stdio[3]!.once('data', (d: Buffer) => resolve(d.toString())));
    assert.equal(byte.length, 1);
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    assert.equal(pid, await daemonPidOf(mnt));
    const holder = spawn('sleep', ['60'], { cwd: mnt, stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 200));
      const busy = await guestunmount(['--no-retry', mnt]);
      assert.equal(busy.code, 2, busy.stderr);
    } finally {
      holder.kill();
      await new Promise((r) => holder.once('exit', r));
    }
    const ok = await guestunmount([mnt]);
    assert.equal(ok.code, 0, ok.stderr);
    // guestunmount returned only after the daemon exited.
    assert.throws(() => process.kill(pid, 0), /ESRCH/);
  });
});

test('SIGTERM unmounts cleanly and flushes; a write acknowledged is on the image', T, async () => {
  const img = await copyImage(await ext4Image(), 'mount-sigterm');
  await withMount('sigterm', ['-a', img, '-m', '/dev/sda'], async (mnt) => {
    await sh('echo signalled > after-term', mnt);
    const pid = (await daemonPidOf(mnt))!;
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 300; i++) {
      try {
        process.kill(pid, 0);
      } catch {
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(await daemonPidOf(mnt), undefined);
  });
  await run('e2fsck', ['-fn', img]);
  assert.equal(await run('debugfs', ['-R', 'cat /after-term', img]), 'signalled\n');
});

test('SIGKILL in the middle of writes: e2fsck\'s journal replay leaves the image clean, and fsync\'d files are there', T, async () => {
  const img = await copyImage(await ext4Image(), 'mount-sigkill');
  let acked: string[] = [];
  await withMount('sigkill', ['-a', img, '-m', '/dev/sda'], async (mnt, dir) => {
    const log = join(dir, 'acked');
    const writer = spawn('python3', ['-c', `
import os, sys
for i in range(100000):
    name = 'w%05d' % i
    fd = os.open(name, os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, ((name + '\\n') * 100).encode())
    os.fsync(fd)
    os.close(fd)
    with open(sys.argv[1], 'a') as f: f.write(name + '\\n')
`, log], { cwd: mnt, stdio: 'ignore' });
    const exited = new Promise((r) => writer.once('exit', r));
    // Kill once a few fsyncs were acknowledged (fsync costs a host datasync each).
    for (let i = 0; i < 300; i++) {
      const n = (await readFile(log, 'utf8').catch(() => '')).split('\n').length - 1;
      if (n >= 5) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    process.kill((await daemonPidOf(mnt))!, 'SIGKILL');
    await exited;
    await run('fusermount', ['-u', '-z', mnt]);
    acked = (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean);
  });
  assert.ok(acked.length > 0, 'the writer got some files acknowledged before the kill');
  // Metadata goes through the journal: whatever the kill interrupted, replaying the log is
  // all e2fsck has to do (nothing to repair), and then it finds the image clean.
  const fix = await runStatus('e2fsck', ['-fy', img]);
  assert.ok(fix.code <= 1, fix.stdout);
  assert.doesNotMatch(fix.stdout, /\? yes$/m, fix.stdout);
  const clean = await runStatus('e2fsck', ['-fn', img]);
  assert.equal(clean.code, 0, clean.stdout);
  const listing = await run('debugfs', ['-R', 'ls -p /', img]);
  for (const name of acked) assert.match(listing, new RegExp(`/${name}/`));
  const last = acked[acked.length - 1]!;
  assert.equal(await run('debugfs', ['-R', `cat /${last}`, img]), `${last}\n`.repeat(100));
});

test('a file manager\'s calls (gio list, info, copy, trash) work on a read-write mount', T, async () => {
  const img = await copyImage(await ext4Image(), 'mount-gio');
  await withMount('gio', ['-a', img, '-m', '/dev/sda'], async (mnt) => {
    const list = await run('gio', ['list', '-a', 'standard::*', mnt]);
    assert.match(list, /hello\.txt\t12\t\(regular\).*standard::content-type=text\/plain/);
    assert.match(await run('gio', ['info', join(mnt, 'big.bin')]), /size:\s+1048576/);
    await run('gio', ['copy', join(mnt, 'hello.txt'), join(mnt, 'copied.txt')]);
    assert.equal(await sh('cat copied.txt', mnt), 'hello world\n');
    await run('gio', ['trash', join(mnt, 'copied.txt')]);
    assert.equal(await sh('test ! -e copied.txt && cat .Trash-*/files/copied.txt', mnt), 'hello world\n');
    assert.equal((await guestunmount([mnt])).code, 0);
  });
  await run('e2fsck', ['-fn', img]);
});

test('an unprivileged user mounts, writes and unmounts through fusermount', T, async () => {
  const dir = join('/tmp', `guestmount-nobody-${process.pid}`);
  const mnt = join(dir, 'mnt');
  await mkdir(mnt, { recursive: true });
  const img = join(dir, 'disk.img');
  await copyFile(await ext4Image(), img);
  const nobody = Number((await run('id', ['-u', 'nobody'])).trim());
  for (const p of [dir, mnt, img]) await chown(p, nobody, nobody);
  const as = (cmd: string[]) => runStatus('runuser', ['-u', 'nobody', '--', ...cmd]);
  // Debian makes /dev/fuse 0666; where this machine has it root-only, it is opened up for the
  // test's length and its mode put back after.
  const mode = (await stat('/dev/fuse')).mode & 0o777;
  const granted = (await as(['test', '-w', '/dev/fuse'])).code !== 0;
  if (granted) await chmod('/dev/fuse', 0o666);
  try {
    const m = await as(['env', `GUESTKIT_NODE=${process.execPath}`, guestmountCmd, '-a', img, '-m', '/dev/sda', mnt]);
    assert.equal(m.code, 0, m.stderr);
    const w = await as(['bash', '-c', `echo mine > ${mnt}/by-nobody && stat -c %u ${mnt}/by-nobody`]);
    assert.equal(w.stdout.trim(), String(nobody), w.stderr);
    const u = await as([process.execPath, guestunmountJs, mnt]);
    assert.equal(u.code, 0, u.stderr);
    assert.equal(await run('debugfs', ['-R', 'cat /by-nobody', img]), 'mine\n');
  } finally {
    await forceUnmount(mnt);
    if (granted) await chmod('/dev/fuse', mode);
    await rm(dir, { recursive: true, force: true });
  }
});

test('a probed qcow2 opens no backing file; the message names --format=qcow2', T, async () => {
  await withMountpoint('backing', async (mnt, dir) => {
    const base = join(dir, 'base.img');
    await writeFile(base, '');
    await run('truncate', ['-s', '16M', base]);
    await run('qemu-img', ['create', '-f', 'qcow2', '-F', 'raw', '-b', base, join(dir, 'top.qcow2')]);
    const r = await guestmount(['-a', join(dir, 'top.qcow2'), '--ro', '-m', '/dev/sda', mnt]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--format=qcow2/);
  });
});

test('the installed launcher reports the daemon\'s refusals as the Node command does, and leaves no daemon', T, async () => {
  const img = await ext4Image();
  await withMountpoint('launcher', async (mnt) => {
    const usage = await guestmount(['-a', img, mnt]);
    assert.equal(usage.code, 1);
    assert.match(usage.stderr, /^guestmount: must have at least one -m or -i option\nUsage: guestmount -a IMAGE/);
    const direct = await runStatus(process.execPath, [guestmountJs, '-a', img, mnt]);
    assert.equal(usage.stderr, direct.stderr);
    const missing = await guestmount(['--ro', '-a', join(mnt, 'nothing.img'), '-m', '/dev/sda', mnt]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^guestmount: .*nothing\.img.*\n$/);
    assert.equal((await runStatus('pgrep', ['-f', `guestmount.js.*${mnt}`])).stdout, '');
    // --timings goes to the Node front. Its daemon keeps stderr open while it serves, so the
    // front's exit is awaited, not the end of its output.
    const front = spawn(guestmountCmd, ['--timings', '--ro', '-a', img, '-m', '/dev/sda', mnt], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, GUESTKIT_NODE: process.execPath } });
    let said = '';
    // Printed before the daemon said "ready", so it is in the pipe by the time the front exits.
    const timings = new Promise<void>((r) => front.stderr.on('data', (b: Buffer) => /FUSE ready/.test((said += b.toString())) && r()));
    const code = await new Promise<number | null>((r) => front.once('exit', r));
    assert.equal(code, 0, said);
    await timings;
    front.stderr.destroy();
    assert.match(said, /guestmount: +[\d.]+ +FUSE ready/);
    assert.equal(await sh('cat hello.txt', mnt), 'hello world\n');
  });
});
