import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { Guest } from '../../../../guest/guest.js';
import { inspectGuest } from '../../../../inspect/inspect.js';
import { scratch } from '../../../fixtures/cache.js';
import { hashFile, run, runStatus } from '../../../fixtures/run.js';
import { CRYPTTAB, DEFAULT_GRUB, DEFAULT_KERNEL, FSTAB, GRUB_CFG, linuxGuest, OLD_KERNEL, VMWARE_FILES, type LinuxGuest, type Range } from '../../images/linux-guest.js';
import { buildInitramfs } from '../../images/initramfs.js';
import { convertGuest } from './convert-guest.js';

const at = (img: string, r: Range) => `${img}?offset=${r.offset}`;
const cat = (img: string, r: Range, path: string) => run('debugfs', ['-R', `cat ${path}`, at(img, r)]);
const ls = async (img: string, r: Range, path: string) => (await run('debugfs', ['-R', `ls -l ${path}`, at(img, r)])).trim();
const toVirtio = (text: string) => text.replace(/\/dev\/sd([a-z])(\d*)/g, '/dev/vd$1$2');

async function assertClean(img: string, g: LinuxGuest): Promise<void> {
  for (const r of [g.boot, g.root]) {
    const { code, stdout, stderr } = await runStatus('e2fsck', ['-fn', at(img, r)]);
    assert.equal(code, 0, `e2fsck at ${r.offset}: ${stdout}${stderr}`);
  }
}

test('Linux conversion of a guest whose default kernel has virtio: virtio disks, /dev/vdX names, first-boot work', async () => {
  const g = await linuxGuest({ virtio: true });
  const before = await hashFile(g.disk);
  const work = await scratch('v2v-linux');
  try {
    const { converted, os, reports, warnings, overlay, raw } = await convertGuest(g.disk, work);
    assert.equal(await hashFile(g.disk), before, 'the source image is unchanged');
    assert.deepEqual(converted, { diskBus: 'virtio', nicModel: 'virtio', video: 'vga', firmware: 'bios', guestAgent: true, virtioRng: true, virtioBalloon: true, clock: 'utc' });
    assert.deepEqual(warnings, []);
    await assertClean(raw, g);

    // Device names: exactly the sdX → vdX rewrite, the rest of each file as it was.
    assert.equal(await cat(raw, g.root, '/etc/fstab'), toVirtio(FSTAB));
    assert.equal(await cat(raw, g.root, '/etc/crypttab'), toVirtio(CRYPTTAB));
    assert.equal(await cat(raw, g.root, '/etc/default/grub'), toVirtio(DEFAULT_GRUB));
    assert.equal(await cat(raw, g.root, '/etc/initramfs-tools/conf.d/resume'), 'RESUME=/dev/vda3\n');
    assert.equal(await cat(raw, g.boot, '/grub/grub.cfg'), toVirtio(GRUB_CFG));
    assert.ok(reports.includes('/etc/fstab: /dev/sda1 → /dev/vda1'), reports.join('\n'));
    assert.ok(reports.includes('/boot/grub/grub.cfg: /dev/sda3 → /dev/vda3'), reports.join('\n'));
    assert.ok(reports.some((r) => r.startsWith(`kernel ${DEFAULT_KERNEL}: virtio_blk in initramfs, virtio_scsi in initramfs, virtio_pci built in, virtio_net on root only (/boot/initrd.img-${DEFAULT_KERNEL}: cpio, zstd)`)), reports.join('\n'));

    // First boot: the unit, enabled, and its scripts; VMware Tools still installed until then.
    const unit = await cat(raw, g.root, '/etc/systemd/system/guestkit-firstboot.service');
    assert.match(unit, /ExecStart=.*\/usr\/lib\/guestkit\/firstboot\.sh/);
    assert.match(await ls(raw, g.root, '/etc/systemd/system/multi-user.target.wants'), /guestkit-firstboot\.service/);
    assert.equal(await run('debugfs', ['-R', 'stat /etc/systemd/system/multi-user.target.wants/guestkit-firstboot.service', at(raw, g.root)]).then((s) => /Fast link dest: "(.*)"/.exec(s)?.[1]), '/etc/systemd/system/guestkit-firstboot.service');
    assert.equal(await cat(raw, g.root, '/usr/lib/guestkit/firstboot.d/0001-remove-vmware-tools.sh'), '#!/bin/sh\nDEBIAN_FRONTEND=noninteractive apt-get -y purge open-vm-tools\n');
    assert.equal(await cat(raw, g.root, '/usr/lib/guestkit/firstboot.d/0003-install-qemu-guest-agent.sh'),
      '#!/bin/sh\nDEBIAN_FRONTEND=noninteractive apt-get -y update && DEBIAN_FRONTEND=noninteractive apt-get -y install qemu-guest-agent\n');
    assert.doesNotMatch(await ls(raw, g.root, '/usr/lib/guestkit/firstboot.d'), /0002/);
    for (const f of VMWARE_FILES) assert.equal(await cat(raw, g.root, f), `open-vm-tools ${f}\n`);

    // The overlay (over the untouched source) still inspects as the same OS.
    const after = await Guest.open([{ path: overlay, format: 'qcow2' }]);
    try {
      const { oses } = await inspectGuest(after);
      assert.equal(oses.length, 1);
      const o = oses[0]!;
      assert.deepEqual([o.root, o.distro, o.majorVersion, o.minorVersion, o.hostname, o.osinfo, o.applications?.length],
        [os.root, os.distro, os.majorVersion, os.minorVersion, os.hostname, os.osinfo, os.applications?.length]);
    } finally {
      await after.close();
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});

test('Linux conversion of a guest whose default kernel lacks virtio_blk at boot: SATA, names kept, initramfs rebuilt at first boot', async () => {
  const g = await linuxGuest({ virtio: false });
  const before = await hashFile(g.disk);
  const work = await scratch('v2v-linux');
  try {
    const { converted, reports, warnings, raw } = await convertGuest(g.disk, work);
    assert.equal(await hashFile(g.disk), before, 'the source image is unchanged');
    assert.equal(converted.diskBus, 'sata');
    assert.equal(converted.nicModel, 'virtio', 'virtio_net loads from the root filesystem');
    assert.deepEqual(warnings, []);
    await assertClean(raw, g);
    // The older kernel could boot on virtio, but it is not the one grub starts.
    assert.ok(reports.includes(`kernel ${OLD_KERNEL}: virtio_blk in initramfs, virtio_scsi in initramfs, virtio_pci in initramfs, virtio_net on root only (/boot/initrd.img-${OLD_KERNEL}: xz)`), reports.join('\n'));
    assert.ok(reports.includes(`kernel ${DEFAULT_KERNEL}: virtio_blk on root only, virtio_scsi on root only, virtio_pci built in, virtio_net on root only (/boot/initrd.img-${DEFAULT_KERNEL}: gzip)`), reports.join('\n'));
    assert.equal(await cat(raw, g.root, '/etc/fstab'), FSTAB);
    assert.equal(await cat(raw, g.boot, '/grub/grub.cfg'), GRUB_CFG);
    assert.equal(await cat(raw, g.root, '/etc/initramfs-tools/modules'),
      '# List of modules that you want to include in your initramfs.\nloop\nvirtio_blk\nvirtio_scsi\nvirtio_net\nvirtio_pci\n');
    assert.equal(await cat(raw, g.root, '/usr/lib/guestkit/firstboot.d/0002-virtio-initramfs.sh'), '#!/bin/sh\nupdate-initramfs -u -k all\n');
    assert.ok(reports.includes('/etc/initramfs-tools/modules: added virtio_blk, virtio_scsi, virtio_net, virtio_pci'));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});

test('Linux conversion: the default kernel is the one grub boots first, not the newest', async () => {
  const g = await linuxGuest({ virtio: false });
  const work = await scratch('v2v-linux');
  try {
    // Only the older kernel has virtio: once grub boots it first, the disks can be virtio.
    const first = GRUB_CFG.indexOf('menuentry');
    const second = GRUB_CFG.indexOf('menuentry', first + 1);
    const grub = GRUB_CFG.slice(0, first) + GRUB_CFG.slice(second) + GRUB_CFG.slice(first, second);
    const { converted, reports, raw } = await convertGuest(g.disk, work, (files) => files.write('/boot/grub/grub.cfg', grub));
    assert.equal(converted.diskBus, 'virtio');
    assert.ok(reports.includes(`default kernel ${OLD_KERNEL} boots on virtio: disks become virtio (/dev/vdX)`), reports.join('\n'));
    assert.equal(await cat(raw, g.boot, '/grub/grub.cfg'), toVirtio(grub));
    await assertClean(raw, g);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});

test('Linux conversion without virtio on a dracut guest: dracut configured, rebuilt at first boot', async () => {
  const g = await linuxGuest({ virtio: false });
  const work = await scratch('v2v-linux');
  try {
    const { converted, reports, raw } = await convertGuest(g.disk, work, async (files) => {
      await files.unlink('/usr/sbin/update-initramfs');
      await files.write('/usr/bin/dracut', '#!/bin/sh\n', { mode: 0o755 });
    });
    assert.equal(converted.diskBus, 'sata');
    assert.equal(await cat(raw, g.root, '/etc/dracut.conf.d/guestkit-virtio.conf'),
      '# guestkit virt-v2v: boot from virtio disks\nadd_drivers+=" virtio_blk virtio_scsi virtio_net virtio_pci "\n');
    assert.equal(await cat(raw, g.root, '/usr/lib/guestkit/firstboot.d/0002-virtio-initramfs.sh'), '#!/bin/sh\ndracut -f --regenerate-all\n');
    assert.equal(await cat(raw, g.root, '/etc/initramfs-tools/modules'), '# List of modules that you want to include in your initramfs.\nloop\n');
    assert.ok(reports.includes('/etc/dracut.conf.d/guestkit-virtio.conf: dracut adds virtio_blk, virtio_scsi, virtio_net, virtio_pci'));
    await assertClean(raw, g);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});

test('Linux conversion warns where it cannot help: an lz4 initramfs (unreadable), no systemd for first-boot work', async () => {
  const g = await linuxGuest({ virtio: true });
  const work = await scratch('v2v-linux');
  try {
    const lz4 = join(work, 'initrd.lz4');
    await buildInitramfs({ version: DEFAULT_KERNEL, compression: 'lz4', earlyMicrocode: true, modules: ['virtio_blk', 'virtio_scsi'] }, lz4, join(work, 'lz4.d'));
    const initrd = await readFile(lz4);
    const stream = initrd.indexOf(Buffer.from([0x02, 0x21, 0x4c, 0x18]));
    const { converted, warnings, raw } = await convertGuest(g.disk, work, async (files) => {
      await files.write(`/boot/initrd.img-${DEFAULT_KERNEL}`, initrd);
      await files.unlink('/usr/lib/systemd/systemd');
    });
    assert.equal(converted.diskBus, 'sata', 'a kernel whose initramfs cannot be read is not trusted with virtio');
    assert.equal(converted.guestAgent, false);
    assert.deepEqual(warnings, [
      `kernel ${DEFAULT_KERNEL}: initramfs not read: /boot/initrd.img-${DEFAULT_KERNEL}: lz4 stream at offset ${stream}: lz4 compression is not supported: the initramfs cannot be looked into`,
      'the guest does not boot with systemd: first-boot work not installed (rebuild the initramfs with virtio; remove VMware Tools (open-vm-tools); install qemu-guest-agent): do it by hand',
    ]);
    assert.equal(await cat(raw, g.root, '/etc/fstab'), FSTAB);
    assert.doesNotMatch(await ls(raw, g.root, '/etc/systemd/system'), /guestkit/);
    await assertClean(raw, g);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});
