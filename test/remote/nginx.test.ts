/**
 * Real nginx as vCenter's datastore endpoint (basic auth → vmware_soap_session, 401 without
 * it, sessions that expire): the tools read a qcow2 and a VMDK through it and print what
 * they print for the local files.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openRemote } from '../../remote/open.js';
import { tool, toolStatus } from '../e2e/tools.js';
import { guestImages, type GuestImages } from './images.js';
import { startNginx, type Nginx } from './nginx.js';

const PASSWORD = 'Tr0ub4dor&3';
const IDLE_MS = 1500;
let imgs: GuestImages;
let ng: Nginx;
let work: string;
let pwFile: string;

before(async () => {
  imgs = await guestImages();
  ng = await startNginx(imgs.dir, { user: 'admin', password: PASSWORD, idleMs: IDLE_MS });
  work = await mkdtemp(join(tmpdir(), 'guestkit-remote-'));
  pwFile = join(work, 'pw');
  await writeFile(pwFile, `${PASSWORD}\n`, { mode: 0o600 });
});

after(async () => {
  await ng?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

for (const f of ['qcow2', 'vmdk'] as const) {
  test(`virt-filesystems, virt-ls and virt-cat read a ${f} over HTTP as they read the local file`, async () => {
    const url = ng.folderUrl(`disk.${f}`, 'admin');
    const remote = ['--password-file', pwFile, '-a', url];
    const local = ['-a', imgs[f]];
    const fsArgs = ['--all', '--long', '--csv'];
    assert.equal(await tool('virt-filesystems', [...remote, ...fsArgs]), await tool('virt-filesystems', [...local, ...fsArgs]));
    const lsArgs = ['-m', '/dev/sda1', '-lR', '/'];
    const listing = await tool('virt-ls', [...remote, ...lsArgs]);
    assert.equal(listing, await tool('virt-ls', [...local, ...lsArgs]));
    assert.match(listing, /big\.bin/);
    assert.equal(await tool('virt-cat', [...remote, '-m', '/dev/sda1', '/etc/hostname']), 'remote-guest\n');
    const big = await toolBuffer([...remote, '-m', '/dev/sda1', '/data/big.bin']);
    assert.ok(big.equals(imgs.big), 'big.bin differs');
  });
}

test('no user: the 401 says how to log in; a wrong password is refused without showing it', async () => {
  const anon = await toolStatus('virt-filesystems', ['-a', ng.folderUrl('disk.qcow2')]);
  assert.equal(anon.code, 1);
  assert.match(anon.stderr, /HEAD: HTTP 401: give a user in the URL \(https:\/\/USER@host\/\.\.\.\) and --password-file/);
  const badPw = join(work, 'bad');
  await writeFile(badPw, 'wrong-password\n');
  const bad = await toolStatus('virt-filesystems', ['--password-file', badPw, '-a', ng.folderUrl('disk.qcow2', 'admin')]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^virt-filesystems: http:\/\/127\.0\.0\.1:\d+\/folder\/disk\.qcow2\?dcPath=DC0&dsName=ds1: HEAD: HTTP 401: the user name or password was refused\n$/);
  assert.doesNotMatch(bad.stderr, /wrong-password|admin/);
});

test('a password in the URL is refused, and -v traces show neither password nor cookie', async () => {
  const inUrl = await toolStatus('virt-ls', ['-a', ng.folderUrl('disk.qcow2', `admin:${encodeURIComponent(PASSWORD)}`), '-m', '/dev/sda1', '/']);
  assert.equal(inUrl.code, 1);
  assert.match(inUrl.stderr, /a password in the URL would show in process listings; use --password-file FILE or GUESTKIT_PASSWORD/);
  assert.ok(!inUrl.stderr.includes(encodeURIComponent(PASSWORD)) && !inUrl.stderr.includes(PASSWORD));

  const seen = ng.auth.headers.length;
  const traced = await toolStatus('virt-ls', ['-v', '-x', '--password-file', pwFile, '-a', ng.folderUrl('disk.qcow2', 'admin'), '-m', '/dev/sda1', '/etc']);
  assert.equal(traced.code, 0, traced.stderr);
  assert.match(traced.stderr, /virt-ls: GET http:\/\/127\.0\.0\.1:\d+\/folder\/disk\.qcow2\?dcPath=DC0&dsName=ds1 bytes=\d+-\d+ -> 206/);
  const secrets = ng.auth.headers.slice(seen).flatMap((h) => h.split('|')).filter(Boolean);
  assert.ok(secrets.some((s) => s.startsWith('vmware_soap_session=')) && secrets.some((s) => s.startsWith('Basic ')));
  const values = secrets.map((x) => (x.startsWith('Basic ') ? x.slice(6) : x.slice(x.indexOf('=') + 1).replace(/"/g, '')));
  for (const s of [PASSWORD, ...secrets, ...values]) {
    assert.ok(s.length > 8 && !traced.stderr.includes(s) && !traced.stdout.includes(s), `trace shows a secret`);
  }
});

test('later requests send only the cookie; an expired session is renewed once after its 401, an idle one before use', async () => {
  const url = ng.folderUrl('disk.raw', 'admin');
  const before = { ...ng.auth };
  const dev = await openRemote(url, { passwordFile: pwFile, cacheSize: 64 << 10 });
  try {
    await dev.read(0n, 512);
    await dev.read(10n << 20n, 512);
    assert.equal(ng.auth.basic - before.basic, 1, 'one basic-auth login');
    assert.ok(ng.auth.byCookie - before.byCookie >= 2);
    await sleep(IDLE_MS + 300);
    const refused = ng.auth.refused;
    assert.deepEqual(await dev.read(20n << 20n, 4096), (await import('node:fs')).readFileSync(imgs.raw).subarray(20 << 20, (20 << 20) + 4096));
    assert.equal(dev.http.stats.renewals, 1);
    assert.equal(ng.auth.refused, refused + 1);
  } finally {
    await dev.close();
  }
  const eager = await openRemote(url, { passwordFile: pwFile, cacheSize: 64 << 10, renewIdle: IDLE_MS / 2 });
  try {
    await eager.read(0n, 512);
    await sleep(IDLE_MS + 300);
    const { refused, basic } = ng.auth;
    await eager.read(30n << 20n, 512);
    assert.equal(ng.auth.refused, refused, 'renewed before the server refused');
    assert.equal(ng.auth.basic, basic + 1);
    assert.equal(eager.http.stats.renewals, 0);
  } finally {
    await eager.close();
  }
});

async function toolBuffer(args: string[]): Promise<Buffer> {
  const { execFile } = await import('node:child_process');
  const { BIN } = await import('../e2e/tools.js');
  return new Promise((resolve, reject) =>
    execFile(process.execPath, [join(BIN, 'virt-cat.js'), ...args], { encoding: 'buffer', maxBuffer: 64 << 20 }, (err, out) => (err ? reject(err) : resolve(out))),
  );
}
