import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Guest } from '../../guest/guest.js';
import { inspectGuest } from '../../inspect/inspect.js';
import { run } from '../fixtures/run.js';
import { rpmImage, RPMS } from './rpm-image.js';

test('a RHEL guest on two disks: redhat-release, sysconfig hostname, fstab by LABEL=, PARTUUID= and /dev/vdb, rpmdb.sqlite', async () => {
  const dir = await rpmImage();
  const guest = await Guest.open([{ path: join(dir, 'sda.img'), format: 'raw' }, { path: join(dir, 'sdb.img'), format: 'raw' }]);
  try {
    const { oses, warnings } = await inspectGuest(guest);
    assert.deepEqual(warnings, []);
    assert.equal(oses.length, 1);
    const { applications, filesystems, ...os } = oses[0]!;
    assert.deepEqual(os, {
      root: '/dev/sda1', type: 'linux', distro: 'rhel', productName: 'Red Hat Enterprise Linux release 9.2 (Plow)', productVariant: '',
      majorVersion: 9, minorVersion: 2, arch: '', hostname: 'dbserver.example.com', packageFormat: 'rpm', packageManagement: 'dnf',
      osinfo: 'rhel9.2',
      mountpoints: [
        { mountpoint: '/', device: '/dev/sda1' },
        { mountpoint: '/srv', device: '/dev/sda2' },
        { mountpoint: '/var/log', device: '/dev/sdb' },
      ],
      driveLetters: [],
    });
    assert.deepEqual(filesystems.map((f) => [f.device, f.label]), [['/dev/sda1', 'rhroot'], ['/dev/sda2', 'srv'], ['/dev/sdb', 'logs']]);
    // rpm itself reads the same database.
    const qf = '%{NAME}\\t%{EPOCHNUM}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%{URL}\\t%{SUMMARY}\\t%{DESCRIPTION}\\n@@\\n';
    const want = (await run('rpm', ['--dbpath', join(dir, 'root/var/lib/rpm'), '-qa', '--qf', qf])).split('\n@@\n').filter(Boolean).sort();
    const got = applications!.map((a) => [a.name, a.epoch, a.version, a.release, a.arch, a.url, a.summary, a.description].join('\t')).sort();
    assert.equal(got.length, RPMS.length);
    assert.deepEqual(got, want);
  } finally {
    await guest.close();
  }
});
