/**
 * A guest whose symlinks aim at host files (absolute, `../`, a directory link to /etc), with a
 * directory linked into itself, a directory claiming 2^40 bytes of entries and a file claiming
 * 2^63 bytes. The tools resolve links inside the guest; the FUSE daemon answers readlink with
 * the stored target and opens no host file (strace attached to it); nothing hangs, and every
 * error is one line naming the image, the structure and the byte offset.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { BIN } from '../e2e/tools.js';
import { scratch } from '../fixtures/cache.js';
import { runStatus } from '../fixtures/run.js';
import { daemonPidOf, sh, withMount } from '../mount/helpers.js';
import { GUEST_SHADOW, hostileGuest, LINKS } from './images.js';

const T = { timeout: 180_000 };

/** A tool under strace, bounded in time: its result and every path it opened. */
async function traced(tool: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string; opened: string[] }> {
  const log = join(await scratch('strace-guest'), 'log');
  const r = await runStatus('timeout', ['60', 'strace', '-f', '-qq', '-e', 'trace=open,openat,openat2', '-o', log, process.execPath, join(BIN, `${tool}.js`), ...args]);
  const opened = [...(await readFile(log, 'utf8')).matchAll(/open(?:at2?)?\((?:[^,]*, )?"([^"]*)"/g)].map((m) => m[1]!);
  return { ...r, opened };
}

/** Every stderr line is one of ours: `tool: …`, no stack trace. */
function ourLines(tool: string, stderr: string): string[] {
  const lines = stderr.split('\n').filter(Boolean);
  for (const l of lines) assert.match(l, new RegExp(`^${tool}: `), stderr);
  assert.ok(!/^\s+at /m.test(stderr), stderr);
  return lines;
}

test('virt-cat and virt-ls resolve absolute and ../ symlinks inside the guest, never on the host', T, async () => {
  const img = await hostileGuest();
  for (const path of ['/abs', '/data/rel', '/esc/shadow', '/data/up/etc/shadow']) {
    const r = await traced('virt-cat', ['-a', img, path]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, GUEST_SHADOW, path);
    assert.ok(!r.opened.some((p) => p.includes('shadow')), `${path}: opened ${r.opened.filter((p) => p.includes('shadow'))}`);
  }
  const up = await traced('virt-ls', ['-a', img, '/data/up']);
  assert.equal(up.code, 0, up.stderr);
  assert.deepEqual(up.stdout.split('\n').filter(Boolean), ['abs', 'big', 'data', 'esc', 'etc', 'loopdir', 'lost+found']);
  assert.ok(!up.opened.some((p) => p.startsWith('/etc/shadow') || p.startsWith('/etc/passwd')));
  const l = await traced('virt-ls', ['-a', img, '-l', '/']);
  for (const [name, target] of Object.entries(LINKS)) if (!name.includes('/')) assert.match(l.stdout, new RegExp(` ${name} -> ${target.replace(/\./g, '\\.')}$`, 'm'));
});

test('a directory loop, a 2^40-byte directory and a 2^63-byte file: no hang, one-line errors with image, structure and offset', T, async () => {
  const img = await hostileGuest();
  const ls = await traced('virt-ls', ['-a', img, '-R', '/']);
  const lines = ourLines('virt-ls', ls.stderr);
  // The 2^63 file costs its entry, with a warning; the huge directory ends the walk with an error naming it.
  assert.ok(lines.some((x) => x.startsWith(`virt-ls: warning: EIO: ${img}: inode `) && / i_size 9223372036854775808 is larger than the mapping can address \(\d+\) \(at byte \d+\): entry "hugefile" of directory inode 2 skipped$/.test(x)), ls.stderr);
  assert.equal(ls.code, 1);
  assert.match(lines[lines.length - 1]!, new RegExp(`^virt-ls: EIO: ${img}: directory inode \\d+: i_size 1099511627776 is larger than 4294967296, the most this driver reads \\(at byte \\d+\\)$`));
  // The loop is walked once.
  const loop = await traced('virt-ls', ['-a', img, '-R', '/loopdir']);
  assert.equal(loop.stdout, '/loopdir/inner\n/loopdir/inner/back\n');
  assert.match(loop.stderr, /cycle/);
  const cat = await traced('virt-cat', ['-a', img, '/hugefile']);
  assert.equal(cat.code, 1);
  assert.equal(ourLines('virt-cat', cat.stderr).length, 1);
  assert.match(cat.stderr, new RegExp(`^virt-cat: EIO: ${img}: inode \\d+: i_size 9223372036854775808 .* \\(at byte \\d+\\)\\n$`));
});

test('guestmount: symlinks read back as stored, the daemon opens no host file they name, loops and huge claims neither hang nor kill it', T, async () => {
  const img = await hostileGuest();
  await withMount('hostile', ['-a', img, '-m', '/dev/sda', '--ro'], async (mnt) => {
    const pid = (await daemonPidOf(mnt))!;
    const log = join(await scratch('strace-daemon'), 'log');
    const strace = spawn('strace', ['-f', '-qq', '-e', 'trace=open,openat,openat2,creat,mkdir,unlink,rename,symlink,link', '-o', log, '-p', String(pid)], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 1000)); // attached
      for (const [name, target] of Object.entries(LINKS)) assert.equal(await readlink(join(mnt, name)), target);
      // find(1) meets the loop and sees it for one (the mount shows the guest's inode numbers:
      // test/mount/inode-numbers.test.ts), and every step answers.
      const found = await sh('timeout 60 find . -maxdepth 12 2>&1 || true', mnt);
      assert.match(found, /File system loop detected; .\.\/loopdir\/inner\/back. is part of the same file system loop as .\.\/loopdir./);
      assert.doesNotMatch(found, /^\.\/loopdir\/inner\/back\/inner$/m);
      assert.match(found, /big/);
      const bad = await sh('timeout 60 ls big 2>&1 || true; timeout 60 stat hugefile 2>&1 || true', mnt);
      assert.match(bad, /ls: .*big.*Input\/output error/);
      assert.match(bad, /stat: .*hugefile.*(Input\/output error|No such file)/);
      // The daemon still serves after the errors.
      assert.equal(await readFile(join(mnt, 'etc', 'shadow'), 'utf8'), GUEST_SHADOW);
      assert.equal(await readFile(join(mnt, 'data', 'f'), 'utf8'), 'hello\n');
    } finally {
      strace.kill('SIGINT');
      await once(strace, 'exit');
    }
    const opened = [...(await readFile(log, 'utf8')).matchAll(/(?:open(?:at2?)?|creat|mkdir|unlink|rename|symlink|link)\((?:[^,"]*, )?"([^"]*)"/g)].map((m) => m[1]!);
    assert.ok(!opened.some((p) => p.includes('shadow') || p.startsWith('/etc')), `the daemon opened: ${opened.join(', ')}`);
  });
});
