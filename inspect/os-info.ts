/** What inspection reports for each operating system, as virt-inspector's XML names it, and how it is built from facts. */
import type { FsCandidate } from '../guest/guest.js';
import { osinfoId } from './osinfo.js';
import type { FactSource, Facts } from './rules.js';

export interface Application {
  name: string;
  displayName?: string;
  epoch?: number;
  version?: string;
  release?: string;
  arch?: string;
  installPath?: string;
  publisher?: string;
  url?: string;
  sourcePackage?: string;
  summary?: string;
  description?: string;
}

export interface FilesystemInfo {
  device: string;
  type: string;
  label: string;
  uuid: string;
}

export interface OsInfo {
  /** Device name of the root filesystem ("/dev/sda2", "/dev/vg0/root"). */
  root: string;
  /** 'linux' | 'windows', as virt-inspector's <name>. */
  type: string;
  distro: string;
  productName: string;
  productVariant: string;
  majorVersion: number;
  minorVersion: number;
  arch: string;
  hostname: string;
  packageFormat: string;
  packageManagement: string;
  /** libosinfo short id ("debian12", "win10"). */
  osinfo: string;
  windowsSystemroot?: string;
  windowsCurrentControlSet?: string;
  /** Windows: EditionID ("Professional", "ServerStandard") and CurrentBuildNumber. */
  windowsEdition?: string;
  windowsBuild?: string;
  /** Linux: from fstab; Windows: the root at "/". Root first, then by depth. */
  mountpoints: { mountpoint: string; device: string }[];
  /** Windows drive letters from MountedDevices ("C" → "/dev/sda2"); empty elsewhere. */
  driveLetters: { letter: string; device: string }[];
  /** The filesystems this OS uses (its mountpoints and swap). */
  filesystems: FilesystemInfo[];
  applications?: Application[];
}

export interface Inspection {
  oses: OsInfo[];
  /** What could not be read (a bad hive, an unreadable filesystem); inspection went on. */
  warnings: string[];
}

/** What the OS-specific inspectors are given about one root filesystem. */
export interface RootContext {
  src: FactSource & { device: string };
  /** What the root rules found ("type", Windows' "systemroot"). */
  facts: Facts;
  root: string;
  /** Every filesystem of the guest, for labels and UUIDs. */
  all: FsCandidate[];
  applications: boolean;
  warn: (m: string) => void;
}

/** Typed fields from the facts the rules found ("version" split into major and minor). */
export function osInfo(root: string, type: string, f: Facts, arch: string, mounts: { mountpoint: string; device: string }[], all: FsCandidate[]): OsInfo {
  const version = /^(\d+)(?:\.(\d+))?/.exec(f['version'] ?? '');
  const os: OsInfo = {
    root, type,
    distro: f['distro'] ?? '',
    productName: f['productName'] ?? '',
    productVariant: f['productVariant'] ?? '',
    majorVersion: Number(f['major'] ?? version?.[1] ?? 0),
    minorVersion: Number(f['minor'] ?? version?.[2] ?? 0),
    arch,
    hostname: f['hostname'] ?? '',
    packageFormat: f['packageFormat'] ?? '',
    packageManagement: f['packageManagement'] ?? '',
    osinfo: '',
    ...(type === 'windows' ? {
      windowsSystemroot: f['systemroot'] ?? '', windowsCurrentControlSet: f['controlSet'] ?? '',
      windowsEdition: f['edition'] ?? '', windowsBuild: f['build'] ?? '',
    } : {}),
    mountpoints: mounts.map(({ mountpoint, device }) => ({ mountpoint, device }))
      .sort((a, b) => depth(a.mountpoint) - depth(b.mountpoint) || (a.mountpoint < b.mountpoint ? -1 : 1)),
    driveLetters: [],
    filesystems: filesystemsOf(mounts.map((m) => m.device), all),
  };
  os.osinfo = osinfoId(os);
  return os;
}

const depth = (p: string) => (p === '/' ? 0 : p.split('/').length - 1);

/** The filesystems on these devices, by device name, each once. */
export function filesystemsOf(devices: string[], all: FsCandidate[]): FilesystemInfo[] {
  return [...new Set(devices)].sort().map((device) => {
    const f = all.find((c) => c.name === device);
    return { device, type: f?.type ?? 'unknown', label: f?.label ?? '', uuid: f?.uuid ?? '' };
  });
}
