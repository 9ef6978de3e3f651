/** A Linux root's facts, mountpoints, architecture and packages. */
import { elfArch } from '../arch.js';
import type { DeviceNames } from '../devices.js';
import type { Application } from '../os-info.js';
import { applyRules, type Facts } from '../rules.js';
import { DATABASE_CAP, type FsSource } from '../source.js';
import { DPKG_STATUS, parseDpkgStatus } from './dpkg.js';
import { parseFstab, type FstabEntry } from './fstab.js';
import { rpmApplications } from './rpm.js';
import { DISTRO_IDS, LINUX_RULES, PACKAGING } from './rules.js';

const EXECUTABLES = ['/bin/ls', '/usr/bin/ls', '/bin/busybox', '/bin/sh', '/usr/bin/bash'];
/** Enough of an ELF file for e_machine. */
const ELF_HEAD = 64;

export interface LinuxFacts {
  facts: Facts;
  arch: string;
  fstab: FstabEntry[];
}

export async function linuxFacts(src: FsSource, names: DeviceNames, warn: (m: string) => void): Promise<LinuxFacts> {
  const facts = await applyRules(LINUX_RULES, src);
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
  const fstab = fstabText ? parseFstab(fstabText, names, (m) => warn(`${src.device}: ${m}`)) : [];
  return { facts, arch, fstab };
}

/** Installed packages from whichever database the root holds. */
export async function linuxApplications(src: FsSource, packageFormat: string, warn: (m: string) => void): Promise<Application[]> {
  if (packageFormat === 'deb') {
    const status = await src.text(DPKG_STATUS, DATABASE_CAP);
    return status ? parseDpkgStatus(status) : [];
  }
  if (packageFormat === 'rpm') return rpmApplications(src, warn);
  return [];
}
