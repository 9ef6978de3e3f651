/**
 * Debian-like initramfs images made with the real tools: a tree packed by `cpio -o -H newc`,
 * compressed by gzip, xz, zstd or lz4 (legacy frame, as the kernel reads it), optionally
 * after an uncompressed early-microcode archive, as initramfs-tools and dracut concatenate them.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { run } from '../../fixtures/run.js';

export type InitramfsCompression = 'none' | 'gzip' | 'xz' | 'zstd' | 'lz4';

export interface InitramfsSpec {
  version: string;
  compression: InitramfsCompression;
  /** Prepend an uncompressed archive holding kernel/x86/microcode/GenuineIntel.bin. */
  earlyMicrocode?: boolean;
  /** Module names packed under usr/lib/modules/VERSION/kernel/… ("virtio_blk"). */
  modules: string[];
  /** Their suffix (".ko", ".ko.xz", ".ko.zst"). */
  moduleSuffix?: string;
  /** Lines of the initramfs's own modules.builtin. */
  builtin?: string[];
}

/** Where each module of the test guests lives in a kernel tree. */
export const MODULE_DIRS: Record<string, string> = {
  virtio_blk: 'drivers/block',
  virtio_scsi: 'drivers/scsi',
  virtio_net: 'drivers/net',
  virtio_pci: 'drivers/virtio',
  virtio_rng: 'drivers/char/hw_random',
  virtio_balloon: 'drivers/virtio',
  virtio_gpu: 'drivers/gpu/drm/virtio',
  ext4: 'fs/ext4',
  dm_mod: 'drivers/md',
  ahci: 'drivers/ata',
  e1000: 'drivers/net/ethernet/intel/e1000',
  vmw_pvscsi: 'drivers/scsi',
};

export const modulePath = (name: string, suffix = '.ko') => `kernel/${MODULE_DIRS[name] ?? 'drivers/misc'}/${name}${suffix}`;

const COMPRESS: Record<Exclude<InitramfsCompression, 'none'>, string> = {
  gzip: 'gzip -9n',
  xz: 'xz --check=crc32 -6',
  zstd: 'zstd -q -19',
  lz4: 'lz4 -q -l -9',
};

/** Pack `tree` (a directory) into a newc archive on stdout of the returned shell pipeline. */
const pack = (tree: string) => `cd '${tree}' && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet`;

/** Write the initramfs described by `spec` to `out`, using `work` for its trees. */
export async function buildInitramfs(spec: InitramfsSpec, out: string, work: string): Promise<void> {
  const tree = join(work, 'main');
  await rm(work, { recursive: true, force: true });
  const files: Record<string, string | Buffer> = {
    init: '#!/bin/sh\nexec /sbin/init\n',
    'etc/initramfs-tools/initramfs.conf': 'MODULES=dep\n',
    'bin/busybox': Buffer.alloc(4096, 0x7f),
    [`usr/lib/modules/${spec.version}/modules.dep`]: spec.modules.map((m) => `${modulePath(m, spec.moduleSuffix)}:`).join('\n') + '\n',
  };
  for (const m of spec.modules) files[`usr/lib/modules/${spec.version}/${modulePath(m, spec.moduleSuffix)}`] = Buffer.from(`\x7fELF fake module ${m}\n`);
  if (spec.builtin) files[`usr/lib/modules/${spec.version}/modules.builtin`] = spec.builtin.join('\n') + '\n';
  for (const [path, data] of Object.entries(files)) {
    await mkdir(dirname(join(tree, path)), { recursive: true });
    await writeFile(join(tree, path), data);
  }
  const main = spec.compression === 'none' ? pack(tree) : `${pack(tree)} | ${COMPRESS[spec.compression]}`;
  let script = `(${main}) > '${out}'`;
  if (spec.earlyMicrocode) {
    const early = join(work, 'early');
    await mkdir(join(early, 'kernel/x86/microcode'), { recursive: true });
    await writeFile(join(early, 'kernel/x86/microcode/GenuineIntel.bin'), Buffer.alloc(3000, 0xa5));
    script = `(${pack(early)}; ${main}) > '${out}'`;
  }
  await run('bash', ['-c', `set -eo pipefail; ${script}`]);
}
