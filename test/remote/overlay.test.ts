/**
 * A local qcow2 overlay over a remote disk: guestkit writes the qemu curl `json:` backing
 * name with the session cookie; real `qemu-img info` parses it and `qemu-img convert` reads
 * through it (Debian's qemu-block-extra curl driver); writes land only in the overlay.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openDisk } from '../../disk/open.js';
import { openRemote } from '../../remote/open.js';
import { createRemoteOverlay } from '../../remote/overlay.js';
import { registerRemote } from '../../remote/register.js';
import { run } from '../fixtures/run.js';
import { tool } from '../e2e/tools.js';
import { guestImages, type GuestImages } from './images.js';
import { startNginx, type Nginx } from './nginx.js';

const PASSWORD = 'overlay-pw';
let imgs: GuestImages;
let ng: Nginx;
let work: string;
let pwFile: string;

before(async () => {
  imgs = await guestImages();
  ng = await startNginx(imgs.dir, { user: 'admin', password: PASSWORD, idleMs: 600_000 });
  work = await mkdtemp(join(tmpdir(), 'guestkit-overlay-'));
  pwFile = join(work, 'pw');
  await writeFile(pwFile, PASSWORD);
});

after(async () => {
  await ng?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

test('qemu-img info parses the json: backing, qemu-img convert reads through it, writes stay in the overlay', async () => {
  const sha = async (p: string) => createHash('sha256').update(await readFile(p)).digest('hex');
  const before = await sha(imgs.raw);
  const overlayPath = join(work, 'overlay.qcow2');
  const remote = await openRemote(ng.folderUrl('disk.raw', 'admin'), { passwordFile: pwFile });
  const overlay = await createRemoteOverlay(remote, overlayPath, { readahead: 65536, timeout: 20 });
  const patch = Buffer.from('written into the overlay only\n');
  try {
    await overlay.write(5n << 20n, patch);
    await overlay.flush();
  } finally {
    await overlay.close();
  }
  assert.equal((await stat(overlayPath)).mode & 0o777, 0o600, 'the overlay holds a session cookie');

  const info = JSON.parse(await run('qemu-img', ['info', '--output=json', overlayPath]));
  const backing = JSON.parse(String(info['backing-filename']).slice('json:'.length));
  assert.equal(info.format, 'qcow2');
  assert.equal(info['backing-filename-format'], 'raw');
  assert.equal(info['virtual-size'], 40 << 20);
  assert.equal(backing['file.driver'], 'http');
  assert.equal(backing['file.url'], ng.folderUrl('disk.raw'));
  assert.match(backing['file.cookie'], /^vmware_soap_session="[0-9a-f]+"$/);
  assert.equal(backing['file.readahead'], 65536);
  assert.equal(backing['file.timeout'], 20);

  const expected = await readFile(imgs.raw);
  patch.copy(expected, 5 << 20);
  const converted = join(work, 'converted.raw');
  const cookieLogins = ng.auth.basic;
  // -m 1: with its default 8 coroutines qemu 7.2's curl driver can hang on a loaded machine
  // (its connections left in CLOSE-WAIT); bench/remote.ts runs it the same way.
  await run('qemu-img', ['convert', '-m', '1', '-O', 'raw', overlayPath, converted]);
  assert.ok((await readFile(converted)).equals(expected), 'qemu-img convert output differs');
  assert.equal(ng.auth.basic, cookieLogins, 'qemu used the cookie, not a new login');

  registerRemote();
  const ours = await openDisk(overlayPath, { format: 'qcow2' });
  try {
    assert.deepEqual(await ours.read(0n, expected.length), expected);
  } finally {
    await ours.close();
  }
  assert.equal(await tool('virt-cat', ['--format=qcow2', '-a', overlayPath, '-m', '/dev/sda1', '/etc/hostname']), 'remote-guest\n');
  assert.equal(await sha(imgs.raw), before, 'the remote file was written');
});

test('the overlay says sslverify off when asked; a probed overlay opens no URL', async () => {
  const overlayPath = join(work, 'probed.qcow2');
  const remote = await openRemote(ng.folderUrl('disk.raw', 'admin'), { passwordFile: pwFile });
  await (await createRemoteOverlay(remote, overlayPath, { noVerify: true })).close();
  const info = JSON.parse(await run('qemu-img', ['info', '--output=json', '-U', '--backing-chain', overlayPath]));
  assert.equal(JSON.parse(String(info[0]['backing-filename']).slice(5))['file.sslverify'], 'off');
  // The refusal names the backing source but never its session cookie.
  const cookie = /vmware_soap_session=\W*(\w+)/.exec(String(info[0]['backing-filename']))?.[1];
  assert.ok(cookie && cookie.length > 20, 'the overlay holds the session cookie');
  await assert.rejects(openDisk(overlayPath), (e: Error) => {
    assert.match(e.message, /names a backing file \("json:\{.*"file\.cookie":"\(hidden\)".*\), but its format was only probed: backing files are opened only when the format \(qcow2\) is given$/);
    assert.ok(!e.message.includes(cookie), e.message);
    return true;
  });
});
