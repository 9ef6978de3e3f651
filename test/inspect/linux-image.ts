/**
 * A Debian-like guest made with the real tools: GPT, ext4 /boot on sda1, LVM on sda2 holding
 * root and home, an fstab naming /boot by UUID= and the LVs by /dev/mapper names, a dpkg
 * status file (the first stanzas of this host's), and this host's /bin/ls.
 */
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fixture } from '../fixtures/cache.js';
import { run } from '../fixtures/run.js';
import { place } from '../e2e/tools.js';
import { lvm, lvmReport, withLoops } from '../volume/lvm-tools.js';

export const BOOT_UUID = '6b1f1e4e-8a4c-4c57-9a0b-2f1b6f1d1a01';
export const ROOT_UUID = '0d6c7e1a-3c55-4f43-8d7e-5b8c9e2a7b02';
export const PACKAGES = 40;

const MiB = 1 << 20;
const P2_START = 34 * MiB;
const DISK = 160 * MiB;

export const LINUX_FSTAB = `# /etc/fstab: static file system information.
/dev/mapper/vg0-root  /      ext4  errors=remount-ro 0 1
UUID=${BOOT_UUID}  /boot  ext4  defaults 0 2
/dev/mapper/vg0-home  /home  ext4  defaults 0 2
proc  /proc  proc  defaults 0 0
`;

export const OS_RELEASE = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
`;

/** The first `n` stanzas of this host's dpkg status file. */
async function hostDpkgStatus(n: number): Promise<string> {
  const stanzas = (await readFile('/var/lib/dpkg/status', 'utf8')).split(/\n\n+/).filter((s) => /^Status: install ok installed$/m.test(s));
  return `${stanzas.slice(0, n).join('\n\n')}\n`;
}

/** The directory holding `disk.img` and the source trees (`root/`, `boot/`). */
export function linuxImage(): Promise<string> {
  return fixture('inspect-linux', `v2 ${LINUX_FSTAB} ${OS_RELEASE} ${PACKAGES} gpt boot lvm root home`, async (out) => {
    const root = join(out, 'root');
    const boot = join(out, 'boot');
    const home = join(out, 'home');
    for (const d of ['etc', 'bin', 'usr/bin', 'var/lib/dpkg', 'boot', 'home', 'proc']) await mkdir(join(root, d), { recursive: true });
    await mkdir(join(home, 'user'), { recursive: true });
    await mkdir(boot, { recursive: true });
    await writeFile(join(root, 'etc/fstab'), LINUX_FSTAB);
    await writeFile(join(root, 'etc/os-release'), OS_RELEASE);
    await writeFile(join(root, 'etc/debian_version'), '12.4\n');
    await writeFile(join(root, 'etc/hostname'), 'webserver\n');
    await writeFile(join(root, 'var/lib/dpkg/status'), await hostDpkgStatus(PACKAGES));
    await copyFile('/bin/ls', join(root, 'bin/ls'));
    await writeFile(join(root, 'usr/bin/apt-get'), '');
    await writeFile(join(home, 'user/.profile'), 'PATH=$HOME/bin:$PATH\n');
    await writeFile(join(boot, 'vmlinuz-6.1.0-13-amd64'), Buffer.alloc(64 << 10, 'k'));

    const disk = join(out, 'disk.img');
    await run('truncate', ['-s', String(DISK), disk]);
    await run('sgdisk', ['-n', `1:2048:${P2_START / 512 - 1}`, '-t', '1:8300', '-c', '1:boot', '-n', '2:0:0', '-t', '2:8e00', disk]);
    const bootImg = join(out, 'boot.img');
    await run('truncate', ['-s', String(32 * MiB), bootImg]);
    await run('mkfs.ext4', ['-q', '-L', 'boot', '-U', BOOT_UUID, '-E', 'root_owner=0:0', '-d', boot, bootImg]);
    await place(bootImg, disk, 0, MiB, 32 * MiB);
    const specs = [{ image: disk, name: '/dev/sda2', offset: P2_START, size: DISK - P2_START - MiB }];
    const report = await withLoops(specs, async (devs) => {
      await lvm('pvcreate', devs, ['-q', ...devs]);
      await lvm('vgcreate', devs, ['-q', 'vg0', ...devs]);
      await lvm('lvcreate', devs, ['-q', '-n', 'root', '-L', '80M', '-Zn', '-Wn', 'vg0']);
      await lvm('lvcreate', devs, ['-q', '-n', 'home', '-L', '24M', '-Zn', '-Wn', 'vg0']);
      return lvmReport(devs, specs);
    });
    const extent = Number(report.vgs[0]!.vg_extent_size);
    const peStart = Number(report.pvs[0]!.pe_start);
    for (const [lv, tree, uuid] of [['root', root, ROOT_UUID], ['home', home, undefined]] as const) {
      const seg = report.lvs.find((s) => s.lv_name === lv)!;
      const img = join(out, `${lv}.img`);
      await run('truncate', ['-s', seg.lv_size, img]);
      await run('mkfs.ext4', ['-q', '-L', lv, ...(uuid ? ['-U', uuid] : []), '-E', 'root_owner=0:0', '-d', tree, img]);
      const first = Number(/:(\d+)-/.exec(seg.seg_pe_ranges)![1]);
      await place(img, disk, 0, P2_START + peStart + first * extent, Number(seg.lv_size));
    }
  });
}
