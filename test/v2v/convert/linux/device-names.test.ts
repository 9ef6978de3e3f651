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

test('device names: NVMe names become the i-th disk on the target bus, virtio or SATA; other namespaces stay', () => {
  const before = [
    '/dev/nvme0n1p1 /boot ext4 defaults 0 2',
    'linux /vmlinuz root=/dev/nvme1n1p12 ro resume=/dev/nvme0n1p3,quiet',
    'GRUB_DEVICE=/dev/nvme0n1',
    '/dev/nvme27n1p2 /srv xfs defaults 0 0',
    '/dev/nvme0n2p1 /ns2 xfs defaults 0 0',
    '/dev/nvme0n1p1x /dev/nvme0n1/sub /dev/nvme0 /dev/nvme0n1p',
    '/dev/sda1 /data ext4 defaults 0 2',
  ].join('\n');
  const vd = rewriteDeviceNames(before, 'vd');
  assert.equal(vd.text, [
    '/dev/vda1 /boot ext4 defaults 0 2',
    'linux /vmlinuz root=/dev/vdb12 ro resume=/dev/vda3,quiet',
    'GRUB_DEVICE=/dev/vda',
    '/dev/vdab2 /srv xfs defaults 0 0',
    '/dev/nvme0n2p1 /ns2 xfs defaults 0 0',
    '/dev/nvme0n1p1x /dev/nvme0n1/sub /dev/nvme0 /dev/nvme0n1p',
    '/dev/vda1 /data ext4 defaults 0 2',
  ].join('\n'));
  assert.deepEqual(vd.changes, [
    ['/dev/nvme0n1p1', '/dev/vda1'], ['/dev/nvme1n1p12', '/dev/vdb12'], ['/dev/nvme0n1p3', '/dev/vda3'], ['/dev/nvme0n1', '/dev/vda'],
    ['/dev/nvme27n1p2', '/dev/vdab2'], ['/dev/sda1', '/dev/vda1'],
  ]);
  // On SATA the sdX names stay as they are, and NVMe ones join them.
  const sd = rewriteDeviceNames(before, 'sd');
  assert.equal(sd.text.split('\n')[0], '/dev/sda1 /boot ext4 defaults 0 2');
  assert.equal(sd.text.split('\n')[3], '/dev/sdab2 /srv xfs defaults 0 0');
  assert.equal(sd.text.split('\n')[6], '/dev/sda1 /data ext4 defaults 0 2');
  assert.deepEqual(sd.changes.map(([from]) => from), ['/dev/nvme0n1p1', '/dev/nvme1n1p12', '/dev/nvme0n1p3', '/dev/nvme0n1', '/dev/nvme27n1p2']);
  assert.deepEqual(rewriteDeviceNames('/dev/sda1 / ext4\n', 'sd'), { text: '/dev/sda1 / ext4\n', changes: [] });
});
