/**
 * The guest's kernels and which virtio drivers each can use: built in (the kernel's
 * modules.builtin), in its initramfs (needed to find a virtio root disk), or on the root
 * filesystem (modules.dep: enough for a NIC, loaded after root is mounted).
 */
import type { GuestFiles } from '../../guest-files.js';
import { readInitramfs } from './initramfs.js';

/** The drivers a virtio disk and NIC need. */
export const VIRTIO_MODULES = ['virtio_blk', 'virtio_scsi', 'virtio_net', 'virtio_pci'] as const;
/** Also looked for, for the devices they allow (rng, balloon, display). */
const EXTRA_MODULES = ['virtio_rng', 'virtio_balloon', 'virtio_gpu'] as const;
/** Initramfs files bigger than this are not read (real ones are tens of MiB). */
const INITRAMFS_CAP = 512 << 20;
const TEXT_CAP = 16 << 20;

export interface KernelInfo {
  version: string;
  /** /boot/vmlinuz-VERSION */
  path: string;
  initramfs?: string;
  /** Its layers as read: "cpio" for an uncompressed archive, else the compression ("cpio, zstd"). */
  initramfsLayers: string[];
  /** Why the initramfs could not be read, when it could not. */
  initramfsError?: string;
  builtin: Set<string>;
  /** Modules inside the initramfs. */
  early: Set<string>;
  /** Modules on the root filesystem (modules.dep). */
  installed: Set<string>;
  /** virtio_blk and virtio_pci built in or in the initramfs: the root disk can be virtio. */
  bootsOnVirtio: boolean;
}

const INITRAMFS_NAMES = (v: string) => [`/boot/initrd.img-${v}`, `/boot/initramfs-${v}.img`, `/boot/initrd-${v}.img`, `/boot/initrd-${v}`];

/** "kernel/drivers/block/virtio_blk.ko.xz" → "virtio_blk" (dashes as underscores, as modprobe does). */
export function moduleName(path: string): string | undefined {
  const m = /(?:^|\/)([^/]+)\.ko(?:\.(?:xz|zst|gz))?$/.exec(path.trim());
  return m ? m[1]!.replace(/-/g, '_') : undefined;
}

function modulesIn(lines: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const l of lines) {
    const m = moduleName(l.split(':')[0]!);
    if (m) out.add(m);
  }
  return out;
}

async function readCapped(files: GuestFiles, path: string, cap: number): Promise<Buffer | undefined> {
  const attr = await files.stat(path);
  if (!attr || (attr.mode & 0o170000) !== 0o100000 || attr.size > cap) return undefined;
  return files.read(path);
}

/** Every /boot/vmlinuz-VERSION with what its modules and initramfs hold. */
export async function guestKernels(files: GuestFiles): Promise<KernelInfo[]> {
  if (!(await files.exists('/boot'))) return [];
  const versions = (await files.readdir('/boot')).map((e) => /^vmlinuz-(.+)$/.exec(e.name)?.[1]).filter((v): v is string => v !== undefined);
  const out: KernelInfo[] = [];
  for (const version of versions.sort(compareVersions)) {
    const dir = `/lib/modules/${version}`;
    const text = async (p: string) => (await readCapped(files, p, TEXT_CAP))?.toString('utf8') ?? '';
    const builtin = modulesIn((await text(`${dir}/modules.builtin`)).split('\n'));
    const installed = modulesIn((await text(`${dir}/modules.dep`)).split('\n'));
    const k: KernelInfo = { version, path: `/boot/vmlinuz-${version}`, builtin, early: new Set(), installed, initramfsLayers: [], bootsOnVirtio: false };
    for (const p of INITRAMFS_NAMES(version)) {
      if (!(await files.exists(p))) continue;
      k.initramfs = p;
      const data = await readCapped(files, p, INITRAMFS_CAP);
      if (!data) {
        k.initramfsError = `${p}: not a regular file of at most ${INITRAMFS_CAP} bytes`;
        break;
      }
      try {
        const contents = await readInitramfs(data, p);
        k.early = modulesIn(contents.names);
        k.initramfsLayers = contents.layers;
        // The initramfs's copy of modules.builtin stands for the kernel's when the root's is missing.
        for (const t of contents.builtin.values()) for (const m of modulesIn(t.split('\n'))) builtin.add(m);
      } catch (e) {
        k.initramfsError = (e as Error).message;
      }
      break;
    }
    const early = (m: string) => builtin.has(m) || k.early.has(m);
    k.bootsOnVirtio = early('virtio_blk') && early('virtio_pci');
    out.push(k);
  }
  return out;
}

/** Whether the kernel has `module` once running (built in, or loadable from the root filesystem). */
export function hasModule(k: KernelInfo, module: (typeof VIRTIO_MODULES)[number] | (typeof EXTRA_MODULES)[number]): boolean {
  return k.builtin.has(module) || k.installed.has(module) || k.early.has(module);
}

/** Versions in numeric order: "5.10.0-9" before "5.10.0-26", "6.1.0-13" after both. */
export function compareVersions(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/**
 * The kernel the guest boots by default: grub's first menu entry (the usual default=0), else
 * the newest version.
 */
export async function defaultKernel(files: GuestFiles, kernels: KernelInfo[]): Promise<KernelInfo | undefined> {
  for (const cfg of ['/boot/grub/grub.cfg', '/boot/grub2/grub.cfg']) {
    const text = (await readCapped(files, cfg, TEXT_CAP))?.toString('utf8');
    const m = text && /^\s*linux(?:16|efi)?\s+\S*\/vmlinuz-(\S+)/m.exec(text);
    const k = m ? kernels.find((x) => x.version === m[1]) : undefined;
    if (k) return k;
  }
  return kernels.at(-1);
}
