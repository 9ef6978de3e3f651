/**
 * Inspection: find each operating system's root among the guest's filesystems, and say
 * what it is, what it mounts where, and what is installed, as libguestfs's inspection does.
 */
import type { Filesystem } from '../fs/filesystem.js';
import type { FsCandidate, Guest } from '../guest/guest.js';
import { DeviceNames } from './devices.js';
import { inspectLinux } from './linux/linux.js';
import { LINUX_ROOT } from './linux/rules.js';
import type { Inspection, OsInfo } from './os-info.js';
import { applyRules } from './rules.js';
import { FsSource } from './source.js';
import { WINDOWS_ROOT } from './windows/rules.js';
import { inspectWindows } from './windows/windows.js';

export type { Application, FilesystemInfo, Inspection, OsInfo } from './os-info.js';
export { mountOs } from './mount.js';

export interface InspectOptions {
  /** List installed applications (the default); off skips reading package databases. */
  applications?: boolean;
  /**
   * Called with each warning as it happens, besides collecting them. A driver's own warnings
   * (a journal replayed in memory) go to the guest's `warn`: the filesystems inspected are the
   * guest's shared read-only opens, which its mounts use too.
   */
  warn?: (message: string) => void;
}

/** The one operating system -i mounts: none found is undefined, several are refused (no multi-boot choice). */
export function onlyOs(oses: OsInfo[]): OsInfo | undefined {
  if (oses.length > 1) throw new Error(`multi-boot operating systems are not supported by -i (found ${oses.map((o) => `${o.type} on ${o.root}`).join(', ')}): choose the filesystems with -m`);
  return oses[0];
}

export async function inspectGuest(guest: Guest, opts: InspectOptions = {}): Promise<Inspection> {
  const warnings: string[] = [];
  const warn = (m: string) => {
    warnings.push(m);
    opts.warn?.(m);
  };
  const names = await DeviceNames.of(guest);
  const fss = (await guest.filesystems()).filter((f) => f.type !== 'unknown' && f.type !== 'swap');
  const oses = await Promise.all(fss.map((f) => inspectFilesystem(guest, f, fss, names, opts.applications ?? true, warn)));
  return { oses: oses.filter((o): o is OsInfo => o !== undefined).sort((a, b) => (a.root < b.root ? -1 : 1)), warnings };
}

/** The OS whose root this filesystem is, or undefined. */
async function inspectFilesystem(
  guest: Guest, cand: FsCandidate, all: FsCandidate[], names: DeviceNames, applications: boolean, warn: (m: string) => void,
): Promise<OsInfo | undefined> {
  let fs: Filesystem;
  try {
    fs = await guest.openFilesystem(cand.name, { writable: false });
  } catch (e) {
    warn(`${cand.name}: cannot open the ${cand.type} filesystem: ${(e as Error).message}`);
    return undefined;
  }
  try {
    const src = new FsSource(fs, cand.name, warn);
    const facts = await applyRules([...LINUX_ROOT, ...WINDOWS_ROOT], src);
    const ctx = { src, facts, root: cand.name, all, applications, warn };
    if (facts['type'] === 'linux') return await inspectLinux({ ...ctx, names });
    if (facts['type'] === 'windows') return await inspectWindows({ ...ctx, partitions: guest.scan.partitions });
    return undefined;
  } catch (e) {
    warn(`${cand.name}: inspection stopped: ${(e as Error).message}`);
    return undefined;
  }
}
