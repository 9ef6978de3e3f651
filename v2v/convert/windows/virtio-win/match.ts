/**
 * Which files of a virtio-win medium fit a guest, after virt-v2v's mapping: a directory named
 * for the Windows version ("2k19", "w10", "2k12R2"…) and one for the architecture ("amd64",
 * "x86") anywhere in the path, case-insensitive. This fits both layouts: the ISO's
 * `viostor/2k19/amd64/viostor.sys` and the package's `drivers/by-os/amd64/2k19/viostor.sys`.
 */

/** Version directory → the libosinfo ids it serves. */
const VERSION_DIRS: Record<string, string[]> = {
  xp: ['winxp'],
  '2k3': ['win2k3', 'win2k3r2'],
  '2k8': ['win2k8', 'winvista'],
  w7: ['win7'],
  '2k8r2': ['win2k8r2'],
  w8: ['win8'],
  '2k12': ['win2k12'],
  'w8.1': ['win8.1'],
  '2k12r2': ['win2k12r2'],
  w10: ['win10'],
  w11: ['win11'],
  '2k16': ['win2k16'],
  '2k19': ['win2k19'],
  '2k22': ['win2k22'],
  '2k25': ['win2k25'],
};

const ARCH_DIRS: Record<string, string> = { x86: 'i386', i386: 'i386', amd64: 'x86_64' };

/** Whether the driver file at `path` is for this guest (osinfo id "win2k19", arch "x86_64"). */
export function driverFits(path: string, osinfo: string, arch: string): boolean {
  const dirs = path.toLowerCase().split('/').slice(0, -1);
  const name = path.toLowerCase().split('/').pop() ?? '';
  const archDir = dirs.find((d) => d in ARCH_DIRS);
  const versionDir = dirs.find((d) => d in VERSION_DIRS);
  if (archDir === undefined || versionDir === undefined) return false;
  // sriov/ holds files that conflict with netkvm's (RHEL-56383); .pdb files are debug symbols.
  if (dirs.includes('sriov') || name.includes('vioprot.') || name.endsWith('.pdb')) return false;
  return ARCH_DIRS[archDir] === arch && VERSION_DIRS[versionDir]!.includes(osinfo);
}

const QEMU_GA: Record<string, string[]> = {
  i386: ['qemu-ga-x86.msi', 'qemu-ga-i386.msi', 'rhev-qga.msi'],
  x86_64: ['qemu-ga-x64.msi', 'qemu-ga-x86_64.msi', 'rhev-qga64.msi'],
};

/** Whether `path` is a qemu-guest-agent installer for this architecture (found anywhere on the medium). */
export function qemuGaFits(path: string, arch: string): boolean {
  return (QEMU_GA[arch] ?? []).includes(path.toLowerCase().split('/').pop() ?? '');
}

/** The lower-cased file name a medium's file is copied under (the driver directory is flat). */
export const baseName = (path: string): string => (path.split('/').pop() ?? path).toLowerCase();
