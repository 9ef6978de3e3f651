import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rewriteDeviceNames } from '../../../../v2v/convert/linux/device-names.js';

test('device names: /dev/sdX and /dev/hdX with partitions become /dev/vdX; other names stay', () => {
  const before = [
    '/dev/sda1 /boot ext4 defaults 0 2',
    'linux /vmlinuz root=/dev/sdb12 ro resume=/dev/sda3,quiet',
    '/dev/hda1 / ext3 defaults 1 1 # was /dev/hda1',
    '/dev/sdaa2 /srv xfs defaults 0 0',
    "set root='hd0,gpt1'",
    'UUID=3a5e1f0c-2b7d /x ext4 0 0',
    'LABEL=root / ext4 0 0',
    '/dev/mapper/vg0-root / ext4 0 1',
    '/dev/disk/by-id/ata-QEMU_HARDDISK-part1 /y ext4 0 0',
    '/dev/sr0 /media/cdrom0 udf,iso9660 user,noauto 0 0',
    '/dev/sda-not-a-disk /dev/sda/sub /dev/sd /dev/sdb',
  ].join('\n');
  const { text, changes } = rewriteDeviceNames(before);
  assert.equal(text, [
    '/dev/vda1 /boot ext4 defaults 0 2',
    'linux /vmlinuz root=/dev/vdb12 ro resume=/dev/vda3,quiet',
    '/dev/vda1 / ext3 defaults 1 1 # was /dev/vda1',
    '/dev/vdaa2 /srv xfs defaults 0 0',
    "set root='hd0,gpt1'",
    'UUID=3a5e1f0c-2b7d /x ext4 0 0',
    'LABEL=root / ext4 0 0',
    '/dev/mapper/vg0-root / ext4 0 1',
    '/dev/disk/by-id/ata-QEMU_HARDDISK-part1 /y ext4 0 0',
    '/dev/sr0 /media/cdrom0 udf,iso9660 user,noauto 0 0',
    '/dev/sda-not-a-disk /dev/sda/sub /dev/sd /dev/vdb',
  ].join('\n'));
  assert.deepEqual(changes, [
    ['/dev/sda1', '/dev/vda1'], ['/dev/sdb12', '/dev/vdb12'], ['/dev/sda3', '/dev/vda3'], ['/dev/hda1', '/dev/vda1'],
    ['/dev/sdaa2', '/dev/vdaa2'], ['/dev/sdb', '/dev/vdb'],
  ]);
  assert.deepEqual(rewriteDeviceNames('UUID=x / ext4\n'), { text: 'UUID=x / ext4\n', changes: [] });
});
