/**
 * Convert a test guest as the virt-v2v pipeline does: the fixture opened read-only under a
 * qcow2 overlay, a writable Guest over the overlay, inspected, its OS mounted, convertLinux
 * run, the guest closed; then the overlay flattened to raw with qemu-img for the checks.
 */
import { join } from 'node:path';
import { createOverlay } from '../../../../disk/qcow2/create.js';
import { RawFile } from '../../../../disk/raw.js';
import { Guest } from '../../../../guest/guest.js';
import { inspectGuest, mountOs } from '../../../../inspect/inspect.js';
import type { OsInfo } from '../../../../inspect/os-info.js';
import { convertLinux } from '../../../../v2v/convert/linux/convert.js';
import { GuestFiles } from '../../../../v2v/guest-files.js';
import type { Converted, Source } from '../../../../v2v/types.js';
import { run } from '../../../fixtures/run.js';

export interface Conversion {
  converted: Converted;
  os: OsInfo;
  reports: string[];
  warnings: string[];
  /** The qcow2 overlay holding the conversion, over the source image. */
  overlay: string;
  /** The converted disk, flattened to raw. */
  raw: string;
}

export const bareSource = (name: string): Source => ({
  name, memory: 1n << 30n, vcpus: 1, firmware: 'unknown', disks: [], cdroms: [], nics: [], close: async () => undefined,
});

/** `prepare` edits the guest on the overlay first (a variant of the fixture without another image). */
export async function convertGuest(disk: string, work: string, prepare?: (files: GuestFiles) => Promise<void>): Promise<Conversion> {
  const overlayPath = join(work, 'overlay.qcow2');
  const overlay = await createOverlay(await RawFile.open(disk), overlayPath, { backingName: disk, backingFormat: 'raw' });
  const guest = await Guest.openDevices([overlay], { readonly: false });
  const reports: string[] = [];
  const warnings: string[] = [];
  let converted: Converted;
  let os: OsInfo;
  try {
    const { oses } = await inspectGuest(guest);
    if (oses.length !== 1) throw new Error(`${disk}: ${oses.length} operating systems found`);
    os = oses[0]!;
    await mountOs(guest, os);
    const files = new GuestFiles(guest.mounts);
    await prepare?.(files);
    converted = await convertLinux(guest, os, files, bareSource('test'), {
      report: (m) => reports.push(m), warn: (m) => warnings.push(m),
    });
  } finally {
    await guest.close();
  }
  const raw = join(work, 'converted.raw');
  await run('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', overlayPath, raw]);
  return { converted, os, reports, warnings, overlay: overlayPath, raw };
}
