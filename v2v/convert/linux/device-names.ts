/**
 * Block device names a Linux guest wrote down, rewritten for virtio disks: /dev/sda1 and
 * /dev/hda1 become /dev/vda1. Only names by kernel device are touched; UUID=, LABEL=,
 * /dev/disk/by-* and /dev/mapper names stay valid on any bus and are left alone.
 */
import type { GuestFiles } from '../../guest-files.js';

/** The files that name boot and mount devices (fstab, crypttab, the grub configs, resume). */
export const DEVICE_NAME_FILES = [
  '/etc/fstab',
  '/etc/crypttab',
  '/etc/default/grub',
  '/etc/sysconfig/grub',
  '/boot/grub/grub.cfg',
  '/boot/grub2/grub.cfg',
  '/boot/grub/menu.lst',
  '/boot/grub/device.map',
  '/boot/grub2/device.map',
  '/etc/initramfs-tools/conf.d/resume',
];

// sd/hd, one or two drive letters, an optional partition number; not followed by more name.
const KERNEL_NAME = /\/dev\/(?:sd|hd)([a-z]{1,2})(\d*)(?![\w/-])/g;

/** The text with every /dev/sdX and /dev/hdX name replaced, and each replacement made (in order, once each). */
export function rewriteDeviceNames(text: string): { text: string; changes: [string, string][] } {
  const seen = new Map<string, string>();
  const out = text.replace(KERNEL_NAME, (name: string, letters: string, part: string) => {
    const vd = `/dev/vd${letters}${part}`;
    seen.set(name, vd);
    return vd;
  });
  return { text: out, changes: [...seen] };
}

/**
 * Rewrite the device names in every file of `paths` that exists (and, on UEFI guests, each
 * /boot/efi/EFI/<vendor>/grub.cfg), reporting each file and name changed.
 */
export async function rewriteGuestDeviceNames(files: GuestFiles, report: (change: string) => void, paths = DEVICE_NAME_FILES): Promise<number> {
  let changed = 0;
  for (const path of [...paths, ...(await efiGrubConfigs(files))]) {
    const attr = await files.stat(path);
    if (!attr || (attr.mode & 0o170000) !== 0o100000) continue;
    const before = await files.readText(path);
    const { text, changes } = rewriteDeviceNames(before);
    if (changes.length === 0) continue;
    await files.write(path, text);
    changed++;
    for (const [from, to] of changes) report(`${path}: ${from} → ${to}`);
  }
  return changed;
}

async function efiGrubConfigs(files: GuestFiles): Promise<string[]> {
  if (!(await files.exists('/boot/efi/EFI'))) return [];
  const out: string[] = [];
  for (const e of await files.readdir('/boot/efi/EFI')) {
    const path = `/boot/efi/EFI/${e.name}/grub.cfg`;
    if (await files.exists(path)) out.push(path);
  }
  return out;
}
