import assert from 'node:assert/strict';
import { copyFile, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Guest } from '../../guest/guest.js';
import { GuestFiles } from '../../v2v/guest-files.js';
import { fixture, scratch } from '../fixtures/cache.js';
import { run, runStatus } from '../fixtures/run.js';

const HOSTNAME = 'files-test\n';
const GRUB = 'GRUB_CMDLINE_LINUX="resume=/dev/sda2"\n';

/** Two ext4 disks made by mkfs.ext4 -d: a root (with symlinks to follow) and a /boot. */
function images(): Promise<string> {
  const recipe = `v1 ${HOSTNAME} ${GRUB}`;
  return fixture('guest-files', recipe, async (out) => {
    const root = join(out, 'root');
    const boot = join(out, 'boot');
    for (const d of ['etc/default', 'etc/sysconfig', 'etc/dir', 'usr/lib/modules', 'boot']) await mkdir(join(root, d), { recursive: true });
    await mkdir(join(boot, 'grub'), { recursive: true });
    await writeFile(join(root, 'etc/hostname'), HOSTNAME);
    await writeFile(join(root, 'etc/default/grub'), GRUB, { mode: 0o600 });
    await symlink('../default/grub', join(root, 'etc/sysconfig/grub'));
    await symlink('/nonexistent', join(root, 'etc/dangling'));
    await symlink('usr/lib', join(root, 'lib'));
    // An absolute link that climbs: it must stay inside the filesystem.
    await symlink('/../../../etc/hostname', join(root, 'etc/climb'));
    await writeFile(join(boot, 'grub/grub.cfg'), 'linux /vmlinuz root=/dev/sda1\n');
    for (const [name, tree] of [['root', root], ['boot', boot]] as const) {
      await run('truncate', ['-s', '8M', join(out, `${name}.img`)]);
      await run('mkfs.ext4', ['-q', '-E', 'root_owner=0:0', '-d', tree, join(out, `${name}.img`)]);
    }
  });
}

let dir: string;
let guest: Guest;
let files: GuestFiles;
before(async () => {
  const src = await images();
  dir = await scratch('guest-files');
  for (const n of ['root', 'boot']) await copyFile(join(src, `${n}.img`), join(dir, `${n}.img`));
  guest = await Guest.open([{ path: join(dir, 'root.img'), format: 'raw' }, { path: join(dir, 'boot.img'), format: 'raw' }], { readonly: false });
  await guest.mount('/dev/sda', '/');
  await guest.mount('/dev/sdb', '/boot');
  files = new GuestFiles(guest.mounts);
});
after(async () => {
  await guest.close().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

const debugfs = (img: string, cmd: string) => run('debugfs', ['-R', cmd, join(dir, img)]);

test('GuestFiles reads by guest path across mounts and through symlinks inside a filesystem', async () => {
  assert.equal(await files.readText('/etc/hostname'), HOSTNAME);
  assert.equal(await files.readText('/etc/sysconfig/grub'), GRUB);
  assert.equal(await files.readText('/etc/climb'), HOSTNAME);
  assert.equal(await files.readText('/boot/grub/grub.cfg'), 'linux /vmlinuz root=/dev/sda1\n');
  assert.equal(await files.exists('/lib/modules'), true);
  assert.equal(await files.exists('/etc/dangling'), false);
  assert.equal(await files.exists('/etc/hostname/x'), false);
  assert.equal(await files.stat('/nope'), undefined);
  assert.deepEqual((await files.readdir('/boot/grub')).map((e) => e.name), ['grub.cfg']);
  await assert.rejects(files.read('/etc/dir'), { code: 'EISDIR' });
});

test('GuestFiles writes, creates, links, removes and renames; e2fsck finds both filesystems clean', async () => {
  await files.write('/etc/hostname', 'converted\n');
  await files.write('/etc/sysconfig/grub', 'GRUB_CMDLINE_LINUX="resume=/dev/vda2"\n');
  await files.mkdirp('/usr/lib/guestkit/firstboot.d');
  await files.mkdirp('/usr/lib/guestkit');
  await files.write('/lib/guestkit/run.sh', '#!/bin/sh\n', { mode: 0o755 });
  await files.write('/boot/grub/grub.cfg', 'linux /vmlinuz root=/dev/vda1\n');
  await files.write('/etc/big', Buffer.alloc(3 << 20, 0x5a));
  await files.symlink('/etc/systemd/x.service', '/etc/link');
  await files.symlink('/etc/systemd/y.service', '/etc/link');
  await files.write('/etc/moved-from', 'm\n');
  await files.rename('/etc/moved-from', '/etc/dir/moved-to');
  assert.equal(await files.unlink('/etc/dangling'), true);
  assert.equal(await files.unlink('/etc/dangling'), false);

  await assert.rejects(files.write('/etc/dir', 'x'), { code: 'EISDIR' });
  await assert.rejects(files.write('/etc/climb-not/x', 'x'), { code: 'ENOENT' });
  await assert.rejects(files.mkdirp('/etc/hostname/sub'), { code: 'ENOTDIR' });
  await assert.rejects(files.symlink('/x', '/etc/hostname'), { code: 'EEXIST' });
  await assert.rejects(files.rename('/etc/link', '/boot/link'), { code: 'EXDEV' });
  await assert.rejects(files.write('/etc/..', 'x'), { code: 'EINVAL' });
  await guest.close();

  for (const img of ['root.img', 'boot.img']) {
    const r = await runStatus('e2fsck', ['-fn', join(dir, img)]);
    assert.equal(r.code, 0, `${img}: ${r.stdout}${r.stderr}`);
  }
  assert.equal(await debugfs('root.img', 'cat /etc/hostname'), 'converted\n');
  assert.equal(await debugfs('root.img', 'cat /etc/default/grub'), 'GRUB_CMDLINE_LINUX="resume=/dev/vda2"\n');
  assert.match(await debugfs('root.img', 'stat /etc/sysconfig/grub'), /Type: symlink/);
  assert.match(await debugfs('root.img', 'stat /etc/default/grub'), /Mode:\s+0600/);
  assert.match(await debugfs('root.img', 'stat /usr/lib/guestkit/run.sh'), /Type: regular\s+Mode:\s+0755/);
  assert.match(await debugfs('root.img', 'stat /usr/lib/guestkit/firstboot.d'), /Type: directory\s+Mode:\s+0755/);
  assert.equal((await debugfs('root.img', 'cat /etc/big')).length, 3 << 20);
  assert.match(await debugfs('root.img', 'stat /etc/link'), /Fast link dest: "\/etc\/systemd\/y\.service"/);
  assert.equal(await debugfs('root.img', 'cat /etc/dir/moved-to'), 'm\n');
  assert.doesNotMatch(await debugfs('root.img', 'ls /etc'), /dangling|moved-from/);
  assert.equal(await debugfs('boot.img', 'cat /grub/grub.cfg'), 'linux /vmlinuz root=/dev/vda1\n');
});
