/**
 * A RHEL-like guest on two disks: sda an MBR disk with an ext4 root (no os-release, only
 * /etc/redhat-release), sdb a whole-disk ext4 /var/log that fstab names /dev/vdb, and an
 * rpmdb.sqlite written by the real rpm from packages rpmbuild made.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fixture } from '../fixtures/cache.js';
import { run } from '../fixtures/run.js';
import { place } from '../e2e/tools.js';

export const RPM_SIGNATURE = 0x5eed1234;
const MiB = 1 << 20;

export const RPM_FSTAB = `LABEL=rhroot  /  ext4  defaults  1 1
PARTUUID=${RPM_SIGNATURE.toString(16)}-02  /srv  ext4  defaults  1 2
/dev/vdb  /var/log  ext4  defaults  1 2
`;

/** name, epoch, version, release, arch, description repeat (long ones spill onto SQLite overflow pages). */
export const RPMS: [string, number, string, string, string, number][] = [
  ['bash', 0, '5.1.8', '6.el9', 'x86_64', 1], ['kernel-core', 0, '5.14.0', '284.11.1.el9_2', 'x86_64', 200],
  ['openssl-libs', 1, '3.0.7', '13.el9', 'x86_64', 3], ['tzdata', 0, '2023c', '1.el9', 'noarch', 1],
  ['python3', 0, '3.9.16', '1.el9', 'x86_64', 40], ['glibc', 0, '2.34', '60.el9', 'x86_64', 2],
  ['vim-minimal', 2, '8.2.2637', '20.el9_1', 'x86_64', 1], ['setup', 0, '2.13.7', '9.el9', 'noarch', 1],
  ['systemd', 0, '252', '13.el9_2', 'x86_64', 500], ['dnf', 0, '4.14.0', '5.el9_2', 'noarch', 1],
  ['NetworkManager', 1, '1.42.2', '1.el9', 'x86_64', 20], ['yum', 0, '4.14.0', '5.el9_2', 'noarch', 1],
];

export function rpmImage(): Promise<string> {
  return fixture('inspect-rpm', `v1 ${RPM_FSTAB} ${JSON.stringify(RPMS)} mbr sdb`, async (out) => {
    const root = join(out, 'root');
    for (const d of ['etc/sysconfig', 'usr/bin', 'var/lib/rpm', 'var/log', 'srv']) await mkdir(join(root, d), { recursive: true });
    await writeFile(join(root, 'etc/fstab'), RPM_FSTAB);
    await writeFile(join(root, 'etc/redhat-release'), 'Red Hat Enterprise Linux release 9.2 (Plow)\n');
    await writeFile(join(root, 'etc/sysconfig/network'), '# Created by anaconda\nNETWORKING=yes\nHOSTNAME=dbserver.example.com\n');
    await writeFile(join(root, 'usr/bin/dnf'), '');
    const top = join(out, 'rpmbuild');
    for (const [name, epoch, version, release, arch, repeat] of RPMS) {
      const spec = join(out, `${name}.spec`);
      await writeFile(spec, `Name: ${name}\nVersion: ${version}\nRelease: ${release}\n${epoch ? `Epoch: ${epoch}\n` : ''}Summary: The ${name} package\n`
        + `License: MIT\nURL: https://example.org/${name}\nBuildArch: ${arch}\n%description\n${`${name} does its job well. `.repeat(repeat)}\n%files\n`);
      await run('rpmbuild', ['-bb', '--quiet', '--define', `_topdir ${top}`, spec]);
    }
    const rpms: string[] = [];
    for (const a of ['x86_64', 'noarch']) rpms.push(...(await readdir(join(top, 'RPMS', a))).map((f) => join(top, 'RPMS', a, f)));
    await run('rpm', ['--dbpath', join(root, 'var/lib/rpm'), '--initdb']);
    await run('rpm', ['--dbpath', join(root, 'var/lib/rpm'), '--justdb', '--nodeps', '--noscripts', '--ignorearch', '--ignoreos', '-i', ...rpms]);
    const disk = join(out, 'sda.img');
    await run('truncate', ['-s', String(64 * MiB), disk]);
    await run('sfdisk', ['-q', disk], { input: `label: dos\nlabel-id: 0x${RPM_SIGNATURE.toString(16)}\nstart=2048, size=${40 * 2048}, type=83\nstart=${42 * 2048}, type=83\n` });
    const rootImg = join(out, 'root.img');
    await run('truncate', ['-s', String(40 * MiB), rootImg]);
    await run('mkfs.ext4', ['-q', '-L', 'rhroot', '-E', 'root_owner=0:0', '-d', root, rootImg]);
    await place(rootImg, disk, 0, MiB, 40 * MiB);
    const srvImg = join(out, 'srv.img');
    await run('truncate', ['-s', String(16 * MiB), srvImg]);
    await run('mkfs.ext4', ['-q', '-L', 'srv', srvImg]);
    await place(srvImg, disk, 0, 42 * MiB, 16 * MiB);
    const sdb = join(out, 'sdb.img');
    await run('truncate', ['-s', String(16 * MiB), sdb]);
    await run('mkfs.ext4', ['-q', '-L', 'logs', sdb]);
  });
}
