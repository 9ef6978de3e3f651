/**
 * A small Linux guest that really boots: the host's Debian kernel (linux-image-amd64) in
 * /boot, and an initramfs of busybox-static plus the kernel's own virtio modules, packed by
 * `cpio -o -H newc` and gzip. Its /init loads the modules, waits for /dev/vda, prints what it
 * found on the serial console (lines starting BOOT-PROBE: the disk's size, the root's ext4
 * magic and label), and powers off. The disk is MBR
 * with one ext4 partition made by mkfs.ext4 -d; fstab names /dev/sda1 as VMware left it.
 */
import { copyFile, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fixture } from '../../fixtures/cache.js';
import { run } from '../../fixtures/run.js';
import { place } from '../../e2e/tools.js';

export const ROOT_LABEL = 'bootroot';
const MiB = 1 << 20;
const ROOT = 96 * MiB;
/** The modules /init loads, in dependency order (modules.dep of Debian 12's 6.1 kernel). */
const MODULES = ['virtio_ring', 'virtio', 'virtio_pci_legacy_dev', 'virtio_pci_modern_dev', 'virtio_pci', 'virtio_blk'];

const INIT = `#!/bin/sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
v=$(uname -r)
for m in ${MODULES.join(' ')}; do
  insmod "$(find /lib/modules/$v -name "$m.ko")" || echo "BOOT-PROBE insmod $m failed"
done
for i in $(seq 1 100); do [ -b /dev/vda1 ] && break; sleep 0.1; done
echo "BOOT-PROBE disk vda $(cat /sys/block/vda/size 2>/dev/null) sectors"
# The ext4 superblock's magic and volume label, as the guest's kernel reads them.
echo "BOOT-PROBE vda1 magic $(dd if=/dev/vda1 bs=1 skip=1080 count=2 2>/dev/null | od -An -tx1 | tr -d ' ') label $(dd if=/dev/vda1 bs=1 skip=1144 count=16 2>/dev/null | tr -d '\\000')"
poweroff -f
`;

export interface BootableGuest {
  disk: string;
  /** The kernel release inside (the host's). */
  version: string;
}

/** The installed Debian kernel's release: linux-image-amd64 from .ci/run. */
export async function hostKernel(): Promise<string> {
  const v = (await readdir('/boot')).filter((f) => f.startsWith('vmlinuz-')).map((f) => f.slice(8)).sort().pop();
  if (!v) throw new Error('no /boot/vmlinuz-*: the boot test needs linux-image-amd64 installed (see .ci/run)');
  return v;
}

export async function bootableGuest(): Promise<BootableGuest> {
  const version = await hostKernel();
  const modules = `/usr/lib/modules/${version}`;
  const dep = await readFile(join(modules, 'modules.dep'), 'utf8');
  const pathOf = (m: string) => {
    const line = dep.split('\n').find((l) => l.startsWith(`kernel/`) && l.split(':')[0]!.endsWith(`/${m}.ko`));
    if (!line) throw new Error(`${m}.ko is not in ${modules}/modules.dep`);
    return line.split(':')[0]!;
  };
  const recipe = `v1 ${version} ${(await readFile(`/boot/vmlinuz-${version}`)).length} ${INIT} ${MODULES} ${bootableGuest.toString()}`;
  const dir = await fixture('v2v-bootable-linux', recipe, async (out) => {
    const initramfs = join(out, 'initramfs');
    for (const d of ['bin', 'proc', 'sys', 'dev']) await mkdir(join(initramfs, d), { recursive: true });
    await copyFile('/bin/busybox', join(initramfs, 'bin/busybox'));
    await symlink('busybox', join(initramfs, 'bin/sh'));
    await writeFile(join(initramfs, 'init'), INIT, { mode: 0o755 });
    for (const m of MODULES) {
      const rel = pathOf(m);
      await mkdir(dirname(join(initramfs, 'lib/modules', version, rel)), { recursive: true });
      await copyFile(join(modules, rel), join(initramfs, 'lib/modules', version, rel));
    }
    const tree = join(out, 'root');
    await mkdir(join(tree, 'boot'), { recursive: true });
    await copyFile(`/boot/vmlinuz-${version}`, join(tree, 'boot', `vmlinuz-${version}`));
    const list = await run('sh', ['-c', 'find . | LC_ALL=C sort'], { cwd: initramfs });
    const cpio = join(out, 'initrd.cpio');
    await run('sh', ['-c', `cpio --quiet -o -H newc -R 0:0 > ${cpio}`], { cwd: initramfs, input: list });
    await run('sh', ['-c', `gzip -9 -n < ${cpio} > ${join(tree, 'boot', `initrd.img-${version}`)}`]);
    // What inspection and the conversion read: the kernel's module lists, a Debian release,
    // an ELF binary for the architecture, and an fstab as VMware left it.
    for (const f of ['modules.dep', 'modules.builtin', 'modules.order']) {
      await mkdir(join(tree, 'usr/lib/modules', version), { recursive: true });
      await copyFile(join(modules, f), join(tree, 'usr/lib/modules', version, f));
    }
    await symlink('usr/lib', join(tree, 'lib'));
    await mkdir(join(tree, 'etc'), { recursive: true });
    await mkdir(join(tree, 'bin'), { recursive: true });
    await copyFile('/bin/busybox', join(tree, 'bin/ls'));
    await writeFile(join(tree, 'etc/os-release'), 'NAME="Debian GNU/Linux"\nID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n');
    await writeFile(join(tree, 'etc/debian_version'), '12.4\n');
    await writeFile(join(tree, 'etc/hostname'), 'bootable\n');
    await writeFile(join(tree, 'etc/fstab'), '/dev/sda1  /  ext4  errors=remount-ro 0 1\n');
    const disk = join(out, 'disk.img');
    await run('truncate', ['-s', String(ROOT + 2 * MiB), disk]);
    await run('sfdisk', ['-q', disk], { input: `label: dos\nstart=2048, size=${ROOT / 512}, type=83, bootable\n` });
    const rootImg = join(out, 'root.img');
    await run('truncate', ['-s', String(ROOT), rootImg]);
    await run('mkfs.ext4', ['-q', '-L', ROOT_LABEL, '-E', 'root_owner=0:0', '-d', tree, rootImg]);
    await place(rootImg, disk, 0, MiB, ROOT);
  });
  return { disk: join(dir, 'disk.img'), version };
}
