/**
 * Block device names a Linux guest wrote down, rewritten for the target bus. On virtio,
 * /dev/sda1 and /dev/hda1 become /dev/vda1; on SATA they stay. NVMe names go either way, as
 * virt-v2v maps them: /dev/nvme<i>n1p<N> is the i-th disk's partition N (namespaces other
 * than 1 are left alone), so /dev/nvme1n1p2 becomes /dev/vdb2 or /dev/sdb2. Only names by
 * kernel device are touched; UUID=, LABEL=, /dev/disk/by-* and /dev/mapper names stay valid
 * on any bus and are left alone.
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

/** The disk name prefix on the target bus. */
export type TargetPrefix = 'vd' | 'sd';

// sd/hd, one or two drive letters, an optional partition number; not followed by more name.
const KERNEL_NAME = /\/dev\/(?:sd|hd)([a-z]{1,2})(\d*)(?![\w/-])/g;
// nvme<disk>n1, an optional p<partition>; not followed by more name.
const NVME_NAME = /\/dev\/nvme(\d{1,3})n1(?:p(\d+))?(?![\w/-])/g;

/** The drive letters of disk `i` (0 → a, 25 → z, 26 → aa), as the kernel names them. */
function driveLetters(i: number): string {
  const letter = String.fromCharCode(97 + (i % 26));
  return i < 26 ? letter : driveLetters(Math.floor(i / 26) - 1) + letter;
}

/** The text with every disk name replaced for `prefix`, and each replacement made (in order, once each). */
export function rewriteDeviceNames(text: string, prefix: TargetPrefix = 'vd'): { text: string; changes: [string, string][] } {
  const seen = new Map<string, string>();
  const rename = (name: string, to: string) => {
    seen.set(name, to);
    return to;
  };
  const out = text
    .replace(NVME_NAME, (name: string, disk: string, part: string | undefined) => rename(name, `/dev/${prefix}${driveLetters(Number(disk))}${part ?? ''}`))
    .replace(KERNEL_NAME, (name: string, letters: string, part: string) => (prefix === 'vd' ? rename(name, `/dev/vd${letters}${part}`) : name));
  return { text: out, changes: [...seen] };
}

/**
 * Rewrite the device names in every file of `paths` that exists (and, on UEFI guests, each
 * /boot/efi/EFI/<vendor>/grub.cfg), reporting each file and name changed.
 */
export async function rewriteGuestDeviceNames(files: GuestFiles, report: (change: string) => void, prefix: TargetPrefix = 'vd', paths = DEVICE_NAME_FILES): Promise<number> {
  let changed = 0;
  for (const path of [...paths, ...(await efiGrubConfigs(files))]) {
    const attr = await files.stat(path);
    if (!attr || (attr.mode & 0o170000) !== 0o100000) continue;
    const before = await files.readText(path);
    const { text, changes } = rewriteDeviceNames(before, prefix);
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
