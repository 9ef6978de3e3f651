/**
 * A VMDK descriptor on a web server whose extent is a separate file (`disk.vmdk` naming
 * `disk-flat.vmdk`, as vCenter's datastores hold them): the extent is the URL beside the
 * descriptor, with its user and query, under the same rules as local extents.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openDisk } from '../../disk/open.js';
import { registerRemote } from '../../remote/register.js';
import { tool, toolStatus } from '../e2e/tools.js';
import { fixture } from '../fixtures/cache.js';
import { run } from '../fixtures/run.js';
import { guestImages } from './images.js';
import { startNginx, type Nginx } from './nginx.js';

const PASSWORD = 'extent-Pa55';
let ng: Nginx;
let work: string;
let pwFile: string;
let raw: string;

/** The remote guest as a monolithicFlat VMDK made by qemu-img, and two hostile descriptors. */
async function flatVmdk(): Promise<string> {
  const imgs = await guestImages();
  raw = imgs.raw;
  return fixture('remote-vmdk-flat', 'v1 qemu-img monolithicFlat of remote-guest; sub/escape.vmdk; url.vmdk', async (out) => {
    await mkdir(join(out, 'sub'), { recursive: true });
    await run('qemu-img', ['convert', '-O', 'vmdk', '-o', 'subformat=monolithicFlat', imgs.raw, join(out, 'disk.vmdk')]);
    const text = await readFile(join(out, 'disk.vmdk'), 'utf8');
    assert.match(text, /FLAT "disk-flat\.vmdk" 0/);
    await writeFile(join(out, 'sub', 'escape.vmdk'), text.replace('"disk-flat.vmdk"', '"../disk-flat.vmdk"'));
    await writeFile(join(out, 'url.vmdk'), text.replace('"disk-flat.vmdk"', '"http://127.0.0.1:1/disk-flat.vmdk"'));
  });
}

before(async () => {
  const dir = await flatVmdk();
  ng = await startNginx(dir, { user: 'admin', password: PASSWORD, idleMs: 60_000 });
  work = await mkdtemp(join(tmpdir(), 'guestkit-extents-'));
  pwFile = join(work, 'pw');
  await writeFile(pwFile, `${PASSWORD}\n`, { mode: 0o600 });
});

after(async () => {
  await ng?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

test('a remote descriptor with --format=vmdk reads its -flat.vmdk extent from beside it, byte for byte', async () => {
  registerRemote({ passwordFile: pwFile });
  const dev = await openDisk(ng.folderUrl('disk.vmdk', 'admin'), { format: 'vmdk' });
  try {
    const want = await readFile(raw);
    assert.equal(dev.size, BigInt(want.length));
    assert.ok((await dev.read(0n, want.length)).equals(want));
  } finally {
    await dev.close();
  }
  const remote = ['--password-file', pwFile, '--format=vmdk', '-a', ng.folderUrl('disk.vmdk', 'admin')];
  assert.equal(await tool('virt-cat', [...remote, '-m', '/dev/sda1', '/etc/hostname']), 'remote-guest\n');
  // The extent went through vCenter's /folder endpoint with the session: the query (dcPath, dsName) was kept.
  assert.ok(ng.auth.byCookie > 0);
});

test('a probed remote descriptor opens no extent; escaping or absolute extent names are refused', async () => {
  const probed = await toolStatus('virt-filesystems', ['--password-file', pwFile, '-a', ng.folderUrl('disk.vmdk', 'admin')]);
  assert.equal(probed.code, 1);
  assert.match(probed.stderr, /disk-flat\.vmdk.*format was only probed.*use --format=vmdk/);
  const escape = await toolStatus('virt-filesystems', ['--password-file', pwFile, '--format=vmdk', '-a', ng.folderUrl('sub/escape.vmdk', 'admin')]);
  assert.equal(escape.code, 1);
  assert.match(escape.stderr, /escape\.vmdk.*: VMDK descriptor line \d+: extent file "\.\.\/disk-flat\.vmdk" is outside the descriptor's directory/);
  const url = await toolStatus('virt-filesystems', ['--password-file', pwFile, '--format=vmdk', '-a', ng.folderUrl('url.vmdk', 'admin')]);
  assert.equal(url.code, 1);
  assert.match(url.stderr, /extent file "http:\/\/127\.0\.0\.1:1\/disk-flat\.vmdk" is a URL; only names relative to the descriptor's directory are allowed/);
  assert.doesNotMatch(probed.stderr + escape.stderr + url.stderr, /admin|extent-Pa55/);
});
