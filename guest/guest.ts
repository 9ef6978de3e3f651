/**
 * The library's front door, like a libguestfs handle: open disk images, scan their volumes,
 * find and open filesystems, and mount them into a path namespace for the tools.
 */
import type { BlockDevice } from '../disk/block-device.js';
import { DiskError } from '../disk/errors.js';
import { openDisk } from '../disk/open.js';
import { probeFilesystem } from '../fs/drivers.js';
import type { Filesystem, FsOpenOptions } from '../fs/filesystem.js';
import { scanVolumes } from '../volume/scan.js';
import type { VolumeScan } from '../volume/types.js';
import { MountTable } from './mounts.js';

export interface DiskSpec {
  path: string;
  /** Force a format (raw, qcow2, vmdk); probed otherwise. */
  format?: string;
}

export interface GuestOptions {
  /** Read-only (the default): not one byte is written to any image. */
  readonly?: boolean;
  /** nbdkit-style filter specs stacked on every disk, outermost first ("log:file=x", "cache"). */
  filters?: string[];
}

/** A block device that could hold a filesystem, and what probing found on it. */
export interface FsCandidate {
  name: string;
  device: BlockDevice;
  /** Driver type ("ext4", "ntfs", "vfat") or "unknown". */
  type: string;
  label: string;
  uuid: string;
  /** Filesystem size (its blocks × block size) where readable, else the device size. */
  size: bigint;
}

export class Guest {
  readonly mounts = new MountTable();
  private fsCache?: Promise<FsCandidate[]>;
  private readonly opened: Filesystem[] = [];

  private constructor(
    readonly readonly: boolean,
    readonly scan: VolumeScan,
  ) {}

  static async open(disks: DiskSpec[], opts: GuestOptions = {}): Promise<Guest> {
    if (disks.length === 0) throw new Error('no disk images given (use -a IMAGE)');
    if (disks.length > 26) throw new Error(`too many disks: ${disks.length} (at most 26)`);
    const readonly = opts.readonly ?? true;
    const devices: BlockDevice[] = [];
    try {
      for (const d of disks) {
        const dev = await openDisk(d.path, { format: d.format, writable: !readonly });
        // Filters load only when asked for (start-up).
        devices.push(opts.filters?.length ? (await import('../disk/filters/stack.js')).applyFilters(dev, opts.filters) : dev);
      }
      const scan = await scanVolumes(devices.map((device, i) => ({ name: `/dev/sd${String.fromCharCode(97 + i)}`, device })));
      return new Guest(readonly, scan);
    } catch (e) {
      await Promise.all(devices.map((d) => d.close().catch(() => undefined)));
      throw e;
    }
  }

  /** Every device that may hold a filesystem: unpartitioned disks, partitions, LVs; not PVs or extended containers. */
  candidates(): { name: string; device: BlockDevice }[] {
    const pvs = new Set(this.scan.pvs.map((p) => p.name));
    const out: { name: string; device: BlockDevice }[] = [];
    for (const d of this.scan.disks) {
      if (!this.scan.tables[d.name] && !pvs.has(d.name)) out.push(d);
    }
    for (const p of this.scan.partitions) if (!p.extended && !pvs.has(p.name)) out.push(p);
    for (const lv of this.scan.lvs) out.push(lv);
    return out;
  }

  /** Probe every candidate for a filesystem (cached: probing reads superblocks once). */
  filesystems(): Promise<FsCandidate[]> {
    this.fsCache ??= Promise.all(
      this.candidates().map(async ({ name, device }) => {
        const driver = await probeFilesystem(device);
        const unknown = { name, device, type: 'unknown', label: '', uuid: '', size: device.size };
        if (!driver) return unknown;
        try {
          return { name, device, ...(await driver.identify(device)) };
        } catch {
          return unknown;
        }
      }),
    );
    return this.fsCache;
  }

  /** Open the filesystem on a device name ("/dev/sda1", "/dev/vg0/root"). */
  async openFilesystem(name: string, opts: FsOpenOptions = {}): Promise<Filesystem> {
    const cand = this.candidates().find((c) => c.name === name);
    if (!cand) {
      const known = this.candidates().map((c) => c.name).join(', ');
      throw new Error(`${name}: no such device (devices: ${known || 'none'})`);
    }
    const driver = await probeFilesystem(cand.device);
    if (!driver) throw new Error(`${name}: no filesystem guestkit can read on this device`);
    const writable = opts.writable ?? !this.readonly;
    if (writable && this.readonly) throw new DiskError(name, 'the guest was opened read-only', undefined, 'EROFS');
    const fs = await driver.open(cand.device, { ...opts, writable });
    this.opened.push(fs);
    return fs;
  }

  /** Mount a device's filesystem at a path of the guest namespace ("/", "/boot"). */
  async mount(name: string, mountpoint: string, opts: FsOpenOptions = {}): Promise<Filesystem> {
    const fs = await this.openFilesystem(name, opts);
    this.mounts.add(mountpoint, fs, name);
    return fs;
  }

  async close(): Promise<void> {
    for (const fs of this.opened.splice(0)) await fs.close();
    const devs = [...new Set(this.scan.disks.map((d) => d.device))];
    for (const d of devs) {
      await d.flush();
      await d.close();
    }
  }
}
