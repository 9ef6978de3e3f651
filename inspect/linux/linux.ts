/** A Linux root's facts, mountpoints, architecture and packages. */
import { elfArch } from '../arch.js';
import type { DeviceNames } from '../devices.js';
import { filesystemsOf, osInfo, type Application, type OsInfo, type RootContext } from '../os-info.js';
import { applyRules } from '../rules.js';
import { DATABASE_CAP, type FsSource } from '../source.js';
import { DPKG_STATUS, parseDpkgStatus } from './dpkg.js';
import { parseFstab } from './fstab.js';
import { rpmApplications } from './rpm.js';
import { DISTRO_IDS, LINUX_RULES, PACKAGING } from './rules.js';

const EXECUTABLES = ['/bin/ls', '/usr/bin/ls', '/bin/busybox', '/bin/sh', '/usr/bin/bash'];
/** Enough of an ELF file for e_machine. */
const ELF_HEAD = 64;

/** A Linux root: facts from the rules, architecture, fstab's mountpoints, packages. */
export async function inspectLinux(ctx: RootContext & { src: FsSource; names: DeviceNames }): Promise<OsInfo> {
  const { src, warn } = ctx;
  const facts = await applyRules(LINUX_RULES, src, ctx.facts);
  if (facts['distro']) facts['distro'] = DISTRO_IDS[facts['distro']] ?? facts['distro'];
  const packaging = PACKAGING[facts['distro'] ?? ''];
  if (packaging) {
    facts['packageFormat'] ||= packaging[0];
    facts['packageManagement'] ||= packaging[1];
  }
  let arch = '';
  for (const exe of EXECUTABLES) {
    const head = await src.head(exe, ELF_HEAD);
    arch = (head && elfArch(head)) || '';
    if (arch) break;
  }
  const fstabText = await src.text('/etc/fstab');
  const fstab = fstabText ? parseFstab(fstabText, ctx.names, (m) => warn(`${src.device}: ${m}`)) : [];
  const mounts = fstab.filter((e) => e.mountpoint !== 'swap');
  if (!mounts.some((m) => m.mountpoint === '/')) mounts.push({ mountpoint: '/', device: ctx.root, type: '' });
  const os = osInfo(ctx.root, 'linux', facts, arch, mounts, ctx.all);
  os.filesystems = filesystemsOf(fstab.map((e) => e.device).concat(ctx.root), ctx.all);
  if (ctx.applications) os.applications = await linuxApplications(src, os.packageFormat, warn);
  return os;
}

/** Installed packages from whichever database the root holds. */
async function linuxApplications(src: FsSource, packageFormat: string, warn: (m: string) => void): Promise<Application[]> {
  if (packageFormat === 'deb') {
    const status = await src.text(DPKG_STATUS, DATABASE_CAP);
    return status ? parseDpkgStatus(status) : [];
  }
  if (packageFormat === 'rpm') return rpmApplications(src, warn);
  return [];
}
