/**
 * What a Linux root looks like, and where its distribution, version, name and host name are
 * written. Earlier rules win; later ones are fallbacks for older or smaller systems.
 */
import type { Rule } from '../rules.js';

/** os-release's `KEY=value` or `KEY="value"` line, value as the named group. */
const osRelease = (key: string, group: string) => new RegExp(`^${key}=["']?(?<${group}>[^"'\\n]*)`, 'm');

/** A filesystem is a Linux root when one of these holds. */
export const LINUX_ROOT: Rule[] = [
  { when: [{ file: '/etc/os-release' }, { file: '/etc/fstab' }], set: { type: 'linux' } },
  { when: [{ file: '/usr/lib/os-release' }, { file: '/etc/fstab' }], set: { type: 'linux' } },
  { when: [{ file: '/etc/fstab' }, { file: '/bin' }], set: { type: 'linux' } },
  { when: [{ file: '/etc/fstab' }, { file: '/usr/bin' }], set: { type: 'linux' } },
];

export const LINUX_RULES: Rule[] = [
  // Debian's os-release has only the major version; debian_version has the point release.
  { when: [{ file: '/etc/os-release', match: /^ID=["']?debian/m }, { file: '/etc/debian_version', match: /^(?<version>\d+\.\d+)/ }] },
  // freedesktop os-release, which every current distribution writes.
  ...['/etc/os-release', '/usr/lib/os-release'].flatMap((f): Rule[] => [
    { when: [{ file: f, match: osRelease('ID', 'distro') }] },
    { when: [{ file: f, match: osRelease('VERSION_ID', 'version') }] },
    { when: [{ file: f, match: osRelease('PRETTY_NAME', 'productName') }] },
  ]),
  // Older systems, most specific first.
  { when: [{ file: '/etc/redhat-release', match: /^(?<productName>Fedora.*?release (?<version>[\d.]+).*)$/m }], set: { distro: 'fedora' } },
  { when: [{ file: '/etc/redhat-release', match: /^(?<productName>CentOS.*?release (?<version>[\d.]+).*)$/m }], set: { distro: 'centos' } },
  { when: [{ file: '/etc/redhat-release', match: /^(?<productName>Red Hat Enterprise Linux.*?release (?<version>[\d.]+).*)$/m }], set: { distro: 'rhel' } },
  { when: [{ file: '/etc/redhat-release', match: /^(?<productName>.*?release (?<version>[\d.]+).*)$/m }], set: { distro: 'redhat-based' } },
  { when: [{ file: '/etc/SuSE-release', match: /^(?<productName>openSUSE.*)$/m }], set: { distro: 'opensuse' } },
  { when: [{ file: '/etc/SuSE-release', match: /^(?<productName>SUSE Linux Enterprise.*)$/m }], set: { distro: 'sles' } },
  { when: [{ file: '/etc/SuSE-release', match: /^VERSION = (?<version>\d+(?:\.\d+)?)/m }] },
  { when: [{ file: '/etc/SuSE-release', match: /^PATCHLEVEL = (?<minor>\d+)/m }] },
  { when: [{ file: '/etc/SuSE-release', match: /^(?<productName>.+)$/m }], set: { distro: 'suse-based' } },
  { when: [{ file: '/etc/debian_version', match: /^(?<version>\d+(?:\.\d+)?)/ }], set: { distro: 'debian' } },
  { when: [{ file: '/etc/debian_version' }], set: { distro: 'debian' } },
  { when: [{ file: '/etc/alpine-release', match: /^(?<version>\d+\.\d+)/ }], set: { distro: 'alpinelinux' } },
  { when: [{ file: '/etc/arch-release' }], set: { distro: 'archlinux' } },
  // Host name.
  { when: [{ file: '/etc/hostname', match: /^\s*(?<hostname>[^\s#]+)/m }] },
  { when: [{ file: '/etc/sysconfig/network', match: /^HOSTNAME=["']?(?<hostname>[^"'\s]+)/m }] },
  { when: [{ file: '/etc/HOSTNAME', match: /^\s*(?<hostname>[^\s#]+)/m }] },
  // The package database says which format, whatever the distribution.
  { when: [{ file: '/var/lib/dpkg/status' }], set: { packageFormat: 'deb' } },
  { when: [{ file: '/var/lib/rpm' }], set: { packageFormat: 'rpm' } },
  { when: [{ file: '/usr/lib/sysimage/rpm' }], set: { packageFormat: 'rpm' } },
  { when: [{ file: '/lib/apk/db/installed' }], set: { packageFormat: 'apk' } },
  { when: [{ file: '/var/lib/pacman' }], set: { packageFormat: 'pacman' } },
  { when: [{ file: '/usr/bin/apt-get' }], set: { packageManagement: 'apt' } },
  { when: [{ file: '/usr/bin/dnf' }], set: { packageManagement: 'dnf' } },
  { when: [{ file: '/usr/bin/yum' }], set: { packageManagement: 'yum' } },
  { when: [{ file: '/usr/bin/zypper' }], set: { packageManagement: 'zypper' } },
  { when: [{ file: '/sbin/apk' }], set: { packageManagement: 'apk' } },
  { when: [{ file: '/usr/bin/pacman' }], set: { packageManagement: 'pacman' } },
];

/** os-release IDs that libguestfs spells differently. */
export const DISTRO_IDS: Record<string, string> = {
  alpine: 'alpinelinux', arch: 'archlinux', 'opensuse-leap': 'opensuse', 'opensuse-tumbleweed': 'opensuse',
  ol: 'oraclelinux', sled: 'sles', altlinux: 'altlinux', kali: 'kalilinux', void: 'voidlinux', rocky: 'redhat-based', almalinux: 'redhat-based',
};

/** Each distribution's package format and manager, when the files did not say. */
export const PACKAGING: Record<string, [format: string, management: string]> = {
  debian: ['deb', 'apt'], ubuntu: ['deb', 'apt'], linuxmint: ['deb', 'apt'], kalilinux: ['deb', 'apt'],
  fedora: ['rpm', 'dnf'], rhel: ['rpm', 'dnf'], centos: ['rpm', 'dnf'], oraclelinux: ['rpm', 'dnf'],
  'redhat-based': ['rpm', 'yum'], opensuse: ['rpm', 'zypper'], sles: ['rpm', 'zypper'], 'suse-based': ['rpm', 'zypper'],
  alpinelinux: ['apk', 'apk'], archlinux: ['pacman', 'pacman'], voidlinux: ['xbps', 'xbps'], gentoo: ['ebuild', 'portage'],
};
