import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { readFile as readGuestFile } from '../../fs/path.js';
import { Guest } from '../../guest/guest.js';
import { inspectGuest, mountOs } from '../../inspect/inspect.js';
import { run } from '../fixtures/run.js';
import { BOOT_UUID, linuxImage, PACKAGES, ROOT_UUID } from './linux-image.js';

test('a GPT + LVM Debian guest: every fact virt-inspector reports', async () => {
  const dir = await linuxImage();
  const guest = await Guest.open([{ path: join(dir, 'disk.img'), format: 'raw' }]);
  try {
    const { oses, warnings } = await inspectGuest(guest);
    assert.deepEqual(warnings, []);
    assert.equal(oses.length, 1);
    const { applications, ...os } = oses[0]!;
    const machine = (await run('uname', ['-m'])).trim();
    assert.deepEqual(os, {
      root: '/dev/vg0/root', type: 'linux', distro: 'debian', productName: 'Debian GNU/Linux 12 (bookworm)', productVariant: '',
      majorVersion: 12, minorVersion: 4, arch: machine, hostname: 'webserver', packageFormat: 'deb', packageManagement: 'apt',
      osinfo: 'debian12',
      mountpoints: [
        { mountpoint: '/', device: '/dev/vg0/root' },
        { mountpoint: '/boot', device: '/dev/sda1' },
        { mountpoint: '/home', device: '/dev/vg0/home' },
      ],
      driveLetters: [],
      filesystems: [
        { device: '/dev/sda1', type: 'ext4', label: 'boot', uuid: BOOT_UUID },
        { device: '/dev/vg0/home', type: 'ext4', label: 'home', uuid: os.filesystems[1]!.uuid },
        { device: '/dev/vg0/root', type: 'ext4', label: 'root', uuid: ROOT_UUID },
      ],
    });
    const home = (await run('blkid', ['-p', '-o', 'value', '-s', 'UUID', join(dir, 'home.img')])).trim();
    assert.equal(os.filesystems[1]!.uuid, home);
    // dpkg-query reads the same status file: name, version, architecture, summary of each.
    const want = (await run('dpkg-query', ['--admindir', join(dir, 'root/var/lib/dpkg'), '-W', '-f', '${Package}\\t${Version}\\t${Architecture}\\t${binary:Summary}\\n']))
      .trim().split('\n').sort();
    const got = applications!.map((a) => {
      const evr = `${a.epoch ? `${a.epoch}:` : ''}${a.version}${a.release ? `-${a.release}` : ''}`;
      return `${a.name}\t${evr}\t${a.arch}\t${a.summary}`;
    }).sort();
    assert.equal(got.length, PACKAGES);
    assert.deepEqual(got, want);
  } finally {
    await guest.close();
  }
});

test('mountOs mounts root, /boot and /home where fstab says', async () => {
  const dir = await linuxImage();
  const guest = await Guest.open([{ path: join(dir, 'disk.img'), format: 'raw' }]);
  try {
    const { oses } = await inspectGuest(guest, { applications: false });
    assert.equal(oses[0]!.applications, undefined);
    await mountOs(guest, oses[0]!);
    assert.deepEqual(guest.mounts.list().map((m) => [m.mountpoint, m.device]).sort(), [['/', '/dev/vg0/root'], ['/boot', '/dev/sda1'], ['/home', '/dev/vg0/home']]);
    const cat = async (p: string) => {
      const { fs, path } = guest.mounts.resolve(p);
      return readGuestFile(fs, path);
    };
    assert.equal((await cat('/home/user/.profile')).toString(), 'PATH=$HOME/bin:$PATH\n');
    assert.equal((await cat('/boot/vmlinuz-6.1.0-13-amd64')).length, 64 << 10);
    assert.equal((await cat('/etc/hostname')).toString(), 'webserver\n');
  } finally {
    await guest.close();
  }
});
