/**
 * When the guest's default kernel cannot boot from a virtio disk, it boots on SATA and its
 * initramfs is rebuilt at first boot with the virtio drivers, by the guest's own tool:
 * initramfs-tools (Debian, Ubuntu) or dracut (Fedora, RHEL, SUSE). We write the tool's
 * configuration now, so any later rebuild keeps them too, and leave the rebuild to first boot.
 */
import type { GuestFiles } from '../../guest-files.js';
import { VIRTIO_MODULES } from './kernels.js';

const INITRAMFS_TOOLS_MODULES = '/etc/initramfs-tools/modules';
const DRACUT_CONF = '/etc/dracut.conf.d/guestkit-virtio.conf';

async function firstExisting(files: GuestFiles, paths: string[]): Promise<string | undefined> {
  for (const p of paths) if (await files.exists(p)) return p;
  return undefined;
}

/** Configure the guest's initramfs tool for virtio and return the first-boot rebuild command; undefined when it has no tool we know. */
export async function virtioInitramfsRebuild(files: GuestFiles, report: (change: string) => void): Promise<string | undefined> {
  if (await firstExisting(files, ['/usr/sbin/update-initramfs', '/sbin/update-initramfs'])) {
    const old = (await files.exists(INITRAMFS_TOOLS_MODULES)) ? await files.readText(INITRAMFS_TOOLS_MODULES) : '';
    const listed = new Set(old.split('\n').map((l) => l.replace(/#.*/, '').trim().split(/\s+/)[0]));
    const add = VIRTIO_MODULES.filter((m) => !listed.has(m));
    if (add.length) {
      await files.mkdirp('/etc/initramfs-tools');
      await files.write(INITRAMFS_TOOLS_MODULES, `${old}${old && !old.endsWith('\n') ? '\n' : ''}${add.join('\n')}\n`);
      report(`${INITRAMFS_TOOLS_MODULES}: added ${add.join(', ')}`);
    }
    return 'update-initramfs -u -k all';
  }
  if (await firstExisting(files, ['/usr/bin/dracut', '/usr/sbin/dracut', '/sbin/dracut'])) {
    await files.mkdirp('/etc/dracut.conf.d');
    await files.write(DRACUT_CONF, `# guestkit virt-v2v: boot from virtio disks\nadd_drivers+=" ${VIRTIO_MODULES.join(' ')} "\n`);
    report(`${DRACUT_CONF}: dracut adds ${VIRTIO_MODULES.join(', ')}`);
    return 'dracut -f --regenerate-all';
  }
  return undefined;
}
