/**
 * Inspection: find each operating system's root among the guest's filesystems, and say
 * what it is, what it mounts where, and what is installed, as libguestfs's inspection does.
 */
import { probeFilesystem } from '../fs/drivers.js';
import type { Filesystem } from '../fs/filesystem.js';
import type { FsCandidate, Guest } from '../guest/guest.js';
import { DeviceNames } from './devices.js';
import { linuxApplications, linuxFacts } from './linux/linux.js';
import { LINUX_ROOT } from './linux/rules.js';
import type { FilesystemInfo, Inspection, OsInfo } from './os-info.js';
import { osinfoId } from './osinfo.js';
import { applyRules, type Facts } from './rules.js';
import { FsSource } from './source.js';

export type { Application, FilesystemInfo, Inspection, OsInfo } from './os-info.js';
export { mountOs } from './mount.js';

export interface InspectOptions {
  /** List installed applications (the default); off skips reading package databases. */
  applications?: boolean;
  /** Called with each warning as it happens, besides collecting them. */
  warn?: (message: string) => void;
}

export async function inspectGuest(guest: Guest, opts: InspectOptions = {}): Promise<Inspection> {
  const warnings: string[] = [];
  const warn = (m: string) => {
    warnings.push(m);
    opts.warn?.(m);
  };
  const names = await DeviceNames.of(guest);
  const fss = (await guest.filesystems()).filter((f) => f.type !== 'unknown' && f.type !== 'swap');
  const oses = await Promise.all(fss.map((f) => inspectFilesystem(f, fss, names, opts.applications ?? true, warn)));
  return { oses: oses.filter((o): o is OsInfo => o !== undefined).sort((a, b) => (a.root < b.root ? -1 : 1)), warnings };
}

/** The OS whose root this filesystem is, or undefined. */
async function inspectFilesystem(
  cand: FsCandidate, all: FsCandidate[], names: DeviceNames, applications: boolean, warn: (m: string) => void,
): Promise<OsInfo | undefined> {
  let fs: Filesystem;
  try {
    const driver = await probeFilesystem(cand.device);
    if (!driver) return undefined;
    fs = await driver.open(cand.device, { writable: false, warn: (m) => warn(`${cand.name}: ${m}`) });
  } catch (e) {
    warn(`${cand.name}: cannot open the ${cand.type} filesystem: ${(e as Error).message}`);
    return undefined;
  }
  try {
    const src = new FsSource(fs, cand.name, warn);
    const root = await applyRules(LINUX_ROOT, src);
    if (root['type'] !== 'linux') return undefined;
    const { facts, arch, fstab } = await linuxFacts(src, names, warn);
    const mounts = fstab.filter((e) => e.mountpoint !== 'swap');
    if (!mounts.some((m) => m.mountpoint === '/')) mounts.push({ mountpoint: '/', device: cand.name, type: cand.type });
    const os = osInfo(cand.name, 'linux', facts, arch, mounts);
    os.filesystems = filesystemsOf([...mounts, ...fstab.filter((e) => e.mountpoint === 'swap')].map((m) => m.device), all);
    if (applications) os.applications = await linuxApplications(src, os.packageFormat, warn);
    return os;
  } catch (e) {
    warn(`${cand.name}: inspection stopped: ${(e as Error).message}`);
    return undefined;
  } finally {
    await fs.close().catch(() => undefined);
  }
}

/** Typed fields from the facts the rules found ("version" split into major and minor). */
function osInfo(root: string, type: string, f: Facts, arch: string, mounts: { mountpoint: string; device: string }[]): OsInfo {
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
    mountpoints: mounts.map(({ mountpoint, device }) => ({ mountpoint, device }))
      .sort((a, b) => depth(a.mountpoint) - depth(b.mountpoint) || (a.mountpoint < b.mountpoint ? -1 : 1)),
    driveLetters: [],
    filesystems: [],
  };
  os.osinfo = osinfoId(os);
  return os;
}

const depth = (p: string) => (p === '/' ? 0 : p.split('/').length - 1);

function filesystemsOf(devices: string[], all: FsCandidate[]): FilesystemInfo[] {
  return [...new Set(devices)].sort().map((device) => {
    const f = all.find((c) => c.name === device);
    return { device, type: f?.type ?? 'unknown', label: f?.label ?? '', uuid: f?.uuid ?? '' };
  });
}
