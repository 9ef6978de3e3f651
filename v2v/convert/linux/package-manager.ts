/**
 * Shell commands for the guest's own package manager, for first-boot scripts. Package names
 * come from the image, so only names a package manager could hold reach a script.
 */
import type { OsInfo } from '../../../inspect/os-info.js';

const PACKAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9+._~-]*$/;

export function safePackageName(name: string): boolean {
  return PACKAGE_NAME.test(name) && name.length <= 200;
}

interface Commands {
  remove: (pkgs: string) => string;
  /** Missing where only the low-level tool (dpkg, rpm) is known: it cannot fetch packages. */
  install?: (pkgs: string) => string;
}

const APT = 'DEBIAN_FRONTEND=noninteractive apt-get -y';
const BY_MANAGER: Record<string, Commands> = {
  apt: { remove: (p) => `${APT} purge ${p}`, install: (p) => `${APT} update && ${APT} install ${p}` },
  dnf: { remove: (p) => `dnf -y remove ${p}`, install: (p) => `dnf -y install ${p}` },
  yum: { remove: (p) => `yum -y remove ${p}`, install: (p) => `yum -y install ${p}` },
  zypper: { remove: (p) => `zypper -n remove ${p}`, install: (p) => `zypper -n install ${p}` },
};
const BY_FORMAT: Record<string, Commands> = {
  deb: { remove: (p) => `dpkg --purge ${p}` },
  rpm: { remove: (p) => `rpm -e ${p}` },
};

/** The guest's package commands, or undefined when it has none we know. */
export function packageCommands(os: OsInfo): Commands | undefined {
  return BY_MANAGER[os.packageManagement] ?? BY_FORMAT[os.packageFormat];
}

/** A command that removes `pkgs` (checked names only). */
export function removeCommand(os: OsInfo, pkgs: string[]): string | undefined {
  const names = pkgs.filter(safePackageName);
  const cmds = packageCommands(os);
  return cmds && names.length ? cmds.remove(names.join(' ')) : undefined;
}

export function installCommand(os: OsInfo, pkgs: string[]): string | undefined {
  const names = pkgs.filter(safePackageName);
  const install = packageCommands(os)?.install;
  return install && names.length ? install(names.join(' ')) : undefined;
}
