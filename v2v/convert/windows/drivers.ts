/**
 * Copy the virtio drivers that fit the guest from a virtio-win medium, as virt-v2v does: every
 * matching file, flattened and lower-cased, into `%SystemRoot%\Drivers\VirtIO` (the directory
 * added to DevicePath, where Plug and Play and pnputil find the packages), and the boot disk's
 * driver also into `System32\drivers`, where its service's ImagePath points, because it must
 * load before PnP has installed anything.
 */
import type { OsInfo } from '../../../inspect/os-info.js';
import type { GuestFiles } from '../../guest-files.js';
import type { BlockDriver } from './block-driver.js';
import { windowsPath } from './guest-paths.js';
import { baseName, driverFits } from './virtio-win/match.js';
import type { VirtioWinSource } from './virtio-win/source.js';

export interface InstalledDrivers {
  /** The boot disk driver copied to System32\drivers, if the medium had one for this guest. */
  block?: BlockDriver;
  /** File names now in the driver directory. */
  names: Set<string>;
}

/** The driver directory, below the system root. */
export const DRIVER_DIR = 'Drivers/VirtIO';

/** Preferred first: virtio-blk, then virtio-scsi. */
const BLOCK_DRIVERS: BlockDriver[] = ['viostor', 'vioscsi'];

/** Copy the drivers for `os`; undefined when the medium has none for it. */
export async function installDrivers(files: GuestFiles, os: OsInfo, src: VirtioWinSource, report: (m: string) => void): Promise<InstalledDrivers | undefined> {
  const fitting = (await src.files()).filter((f) => driverFits(f.path, os.osinfo, os.arch));
  if (fitting.length === 0) return undefined;
  const root = os.windowsSystemroot ?? '/Windows';
  const dir = `${root}/${DRIVER_DIR}`;
  await mkdirReported(files, os, dir, report);

  // The ISO has each file twice (by driver and by OS): the first of each name is copied.
  const byName = new Map<string, (typeof fitting)[number]>();
  for (const f of fitting) if (!byName.has(baseName(f.path))) byName.set(baseName(f.path), f);
  // fwcfg drives the fw_cfg device, qemufwcfg is a stub for it; the two conflict (RHBZ#2151752).
  if (byName.has('fwcfg.inf')) for (const n of [...byName.keys()]) if (n.startsWith('qemufwcfg.')) byName.delete(n);

  for (const [name, f] of byName) {
    await writeReported(files, os, `${dir}/${name}`, await src.read(f), `from ${src.name}: ${f.path}`, report);
  }
  const names = new Set(byName.keys());
  const block = BLOCK_DRIVERS.find((d) => names.has(`${d}.sys`));
  if (block) {
    await writeReported(files, os, `${root}/System32/drivers/${block}.sys`, await src.read(byName.get(`${block}.sys`)!), `the boot disk driver, from ${src.name}`, report);
  }
  return { block, names };
}

export async function mkdirReported(files: GuestFiles, os: OsInfo, path: string, report: (m: string) => void): Promise<void> {
  const parts = path.split('/').filter(Boolean);
  for (let i = 1; i <= parts.length; i++) {
    const p = `/${parts.slice(0, i).join('/')}`;
    if (await files.exists(p)) continue;
    await files.mkdirp(p);
    report(`${windowsPath(os, p)}: directory created`);
  }
}

export async function writeReported(files: GuestFiles, os: OsInfo, path: string, data: Buffer | string, why: string, report: (m: string) => void): Promise<void> {
  const existed = await files.exists(path);
  await files.write(path, data);
  const size = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
  report(`${windowsPath(os, path)}: ${existed ? 'replaced' : 'added'} (${size} bytes, ${why})`);
}
