/**
 * VMware Tools in a Linux guest: the packages (open-vm-tools, vmware-tools…) and the
 * tarball install's uninstaller.
 *
 * They are removed at first boot by the guest's own package manager, not by editing its
 * package database now. libguestfs runs the package manager inside its appliance; we have
 * none, and editing the database by hand would skip what the package's maintainer scripts
 * do (stop and disable its systemd units, undo dpkg diversions and alternatives, run
 * ldconfig and triggers), would leave conffiles and dependants inconsistent, and for rpm
 * means writing a Berkeley DB / SQLite / ndb database. Running on KVM until then is
 * harmless: vmtoolsd sees no VMware backdoor and idles.
 */
import type { Application, OsInfo } from '../../../inspect/os-info.js';
import type { GuestFiles } from '../../guest-files.js';
import { removeCommand } from './package-manager.js';

const VMWARE_PACKAGE = /^(open-vm-tools(-.+)?|open-vm-toolbox|vmware-tools(-.+)?|VMwareTools|vmware-open-vm-tools(-.+)?|kmod-(open-vm-tools|vmware-tools)(-.+)?|vmware-guestd)$/;
const TARBALL_UNINSTALLER = '/usr/bin/vmware-uninstall-tools.pl';

export function vmwarePackages(apps: Application[]): string[] {
  return [...new Set(apps.map((a) => a.name).filter((n) => VMWARE_PACKAGE.test(n)))].sort();
}

/** The first-boot script that removes them, or undefined when there is nothing to remove. */
export async function vmwareRemovalScript(files: GuestFiles, os: OsInfo, pkgs: string[], warn: (m: string) => void): Promise<string | undefined> {
  const lines: string[] = [];
  if (pkgs.length) {
    const cmd = removeCommand(os, pkgs);
    if (cmd) lines.push(cmd);
    else warn(`VMware Tools packages ${pkgs.join(', ')} found, but the guest has no package manager guestkit knows (${os.packageManagement || os.packageFormat || 'none'}): remove them by hand`);
  }
  if (await files.exists(TARBALL_UNINSTALLER)) lines.push(`[ -x ${TARBALL_UNINSTALLER} ] && ${TARBALL_UNINSTALLER} --default`);
  return lines.length ? `${lines.join('\n')}\n` : undefined;
}
