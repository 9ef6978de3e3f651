/** Names from a hostile image: escaped when printed, and unable to make virt-ls -R loop. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BIN } from '../e2e/tools.js';
import { runStatus } from '../fixtures/run.js';
import { hostileExt4 } from './images.js';

/** Run a tool with a hang timeout: before the fix, virt-ls -R walked the root again and again. */
const bounded = (name: string, args: string[]) => runStatus('timeout', ['60', process.execPath, `${BIN}/${name}.js`, ...args]);

test('virt-ls -R: an entry named "/" is skipped with a warning, a directory cycle is reported and not followed', async () => {
  const image = await hostileExt4();
  const r = await bounded('virt-ls', ['-a', image, '-R', '/']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.split('\n'), [
    '/back\\\\slash', '/etc', '/etc/fstab', '/loop', '/loop/inner', '/lost+found', '/red\\x1b[31mname', '/sub', '',
  ]);
  assert.match(r.stderr, /^virt-ls: warning: .*"\/"/m);
  assert.match(r.stderr, /^virt-ls: warning: \/loop\/inner: directory inode \d+ was already listed \(a directory cycle in the image\); not walked again$/m);
});

test('names and labels from the image are printed with control characters escaped, as ls -b does', async () => {
  const image = await hostileExt4();
  const ls = await bounded('virt-ls', ['-a', image, '-l', '/']);
  assert.equal(ls.code, 0, ls.stderr);
  assert.match(ls.stdout, / red\\x1b\[31mname$/m);
  assert.match(ls.stdout, / back\\\\slash$/m);
  assert.doesNotMatch(ls.stdout, /\x1b/);
  const fs = await bounded('virt-filesystems', ['-a', image, '-l']);
  assert.match(fs.stdout, /^\/dev\/sda +filesystem +ext4 +L\\x1bB /m);
  // An error message quoting a name escapes its control characters too.
  const cat = await bounded('virt-cat', ['-a', image, '-m', '/dev/sd\x07', '/etc/fstab']);
  assert.equal(cat.code, 1);
  assert.equal(cat.stderr, 'virt-cat: /dev/sd\\x07: no such device (devices: /dev/sda)\n');
});
