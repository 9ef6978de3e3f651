/**
 * virt-v2v's Linux conversion, by editing the guest's files (README.md lists every change):
 * choose the disk bus from what the default kernel can boot on, rename /dev/sdX to /dev/vdX
 * where the disks become virtio, and leave what needs the guest's own package manager
 * (removing VMware Tools, installing qemu-guest-agent, rebuilding the initramfs) to a
 * first-boot unit.
 */
import { DPKG_STATUS, parseDpkgStatus } from '../../../inspect/linux/dpkg.js';
import type { Application, OsInfo } from '../../../inspect/os-info.js';
import type { GuestFiles } from '../../guest-files.js';
import type { Converted, Converter, Firmware } from '../../types.js';
import { rewriteGuestDeviceNames } from './device-names.js';
import { addFirstbootScript, hasSystemd } from './firstboot.js';
import { virtioInitramfsRebuild } from './initramfs-rebuild.js';
import { defaultKernel, guestKernels, hasModule, type KernelInfo } from './kernels.js';
import { installCommand } from './package-manager.js';
import { vmwarePackages, vmwareRemovalScript } from './vmware-tools.js';

export const convertLinux: Converter = async (_guest, os, files, source, opts) => {
  const { report, warn } = opts;
  const apps = os.applications ?? (await installedPackages(files, os));
  const systemd = await hasSystemd(files);
  const firstboot: { name: string; script: string; what: string }[] = [];

  const kernels = await guestKernels(files);
  for (const k of kernels) {
    report(`kernel ${k.version}: ${describeKernel(k)}`);
    if (k.initramfsError) warn(`kernel ${k.version}: initramfs not read: ${k.initramfsError}`);
  }
  const kernel = await defaultKernel(files, kernels);
  if (!kernel) warn('no kernel found in /boot (vmlinuz-*): the disks stay on SATA and the NIC on e1000');

  const virtio = kernel?.bootsOnVirtio ?? false;
  if (virtio) {
    report(`default kernel ${kernel!.version} boots on virtio: disks become virtio (/dev/vdX)`);
    await rewriteGuestDeviceNames(files, report);
  } else {
    if (kernel) {
      report(`default kernel ${kernel.version} lacks virtio_blk or virtio_pci at boot: disks go on SATA (/dev/sdX names unchanged)`);
      const rebuild = await virtioInitramfsRebuild(files, report);
      if (rebuild) firstboot.push({ name: '0002-virtio-initramfs', script: `${rebuild}\n`, what: 'rebuild the initramfs with virtio' });
      else warn('the guest has neither initramfs-tools nor dracut: its initramfs is not rebuilt with virtio drivers');
    }
    // NVMe names become SATA ones.
    await rewriteGuestDeviceNames(files, report, 'sd');
  }

  const vmware = vmwarePackages(apps);
  const removal = await vmwareRemovalScript(files, os, vmware, warn);
  if (removal) firstboot.push({ name: '0001-remove-vmware-tools', script: removal, what: `remove VMware Tools (${vmware.join(', ') || 'tarball install'})` });

  let guestAgent = apps.some((a) => a.name === 'qemu-guest-agent');
  if (guestAgent) report('qemu-guest-agent is already installed');
  else {
    const install = installCommand(os, ['qemu-guest-agent']);
    if (install) {
      firstboot.push({ name: '0003-install-qemu-guest-agent', script: `${install}\n`, what: 'install qemu-guest-agent' });
      guestAgent = systemd;
    } else warn(`qemu-guest-agent cannot be installed at first boot: no package manager guestkit knows (${os.packageManagement || 'none'})`);
  }

  if (firstboot.length && !systemd) {
    warn(`the guest does not boot with systemd: first-boot work not installed (${firstboot.map((f) => f.what).join('; ')}): do it by hand`);
  } else {
    for (const f of firstboot.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      await addFirstbootScript(files, f.name, f.script, report);
      report(`first boot will ${f.what}`);
    }
  }

  return {
    diskBus: virtio ? 'virtio' : 'sata',
    nicModel: kernel && hasModule(kernel, 'virtio_net') ? 'virtio' : 'e1000',
    video: kernel && hasModule(kernel, 'virtio_gpu') ? 'virtio' : 'vga',
    firmware: firmwareOf(source.firmware, os),
    guestAgent,
    virtioRng: kernel !== undefined && hasModule(kernel, 'virtio_rng'),
    virtioBalloon: kernel !== undefined && hasModule(kernel, 'virtio_balloon'),
    clock: 'utc',
  } satisfies Converted;
};

function describeKernel(k: KernelInfo): string {
  const where = (m: string) => (k.builtin.has(m) ? `${m} built in` : k.early.has(m) ? `${m} in initramfs` : k.installed.has(m) ? `${m} on root only` : `no ${m}`);
  return `${['virtio_blk', 'virtio_scsi', 'virtio_pci', 'virtio_net'].map(where).join(', ')}${k.initramfs ? ` (${k.initramfs}: ${k.initramfsLayers.join(', ') || 'unreadable'})` : ' (no initramfs)'}`;
}

/** The source's firmware, or, from a bare disk, UEFI when the guest mounts an EFI system partition. */
function firmwareOf(fromSource: Firmware | 'unknown', os: OsInfo): Firmware {
  if (fromSource !== 'unknown') return fromSource;
  return os.mountpoints.some((m) => m.mountpoint === '/boot/efi' || m.mountpoint === '/efi') ? 'uefi' : 'bios';
}

/** Packages from dpkg's status file when inspection did not list them (rpm guests need inspection's list). */
async function installedPackages(files: GuestFiles, os: OsInfo): Promise<Application[]> {
  if (os.packageFormat === 'deb' && (await files.exists(DPKG_STATUS))) return parseDpkgStatus(await files.readText(DPKG_STATUS));
  return [];
}
