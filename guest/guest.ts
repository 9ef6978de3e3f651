/**
 * The library's front door, like a libguestfs handle: open disk images, scan their volumes,
 * find and open filesystems, and mount them into a path namespace for the tools.
 */
import type { BlockDevice } from '../disk/block-device.js';
import { openDisk } from '../disk/open.js';
import { probeFilesystem } from '../fs/drivers.js';
import type { Filesystem, FsOpenOptions } from '../fs/filesystem.js';
import { scanVolumes } from '../volume/scan.js';
import type { VolumeScan } from '../volume/types.js';
import { GuestError } from './errors.js';
import { driverForType } from './fstypes.js';
import { MountTable } from './mounts.js';
import { traced, type TraceSink } from './trace.js';

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
  /** Warnings of the filesystems mounted or opened (a journal replayed in memory…). */
  warn?: (message: string) => void;
  /** Verbose messages: what was opened and found, and why a filesystem could not be opened. */
  debug?: (message: string) => void;
  /** One line per call on the Guest and its filesystems (libguestfs's trace). */
  trace?: TraceSink;
}

/** How to open a filesystem: the driver's options, and a type that forces its driver. */
export interface MountOptions extends FsOpenOptions {
  /** "ext4", "vfat", "ntfs"… (mount -t names): use that driver instead of probing. */
  fstype?: string;
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
  /** The driver that recognised the device when it then failed to open ("unknown" type), and why. */
  probed?: string;
  error?: string;
}

export class Guest {
  readonly mounts = new MountTable();
  private fsCache?: Promise<FsCandidate[]>;
  private readonly opened: Filesystem[] = [];
  /**
   * Filesystems opened read-only with no driver options, one per device: inspection and the
   * mounts after it share one open (one superblock read, one journal replay, one set of caches).
   */
  private readonly readers = new Map<string, Promise<Filesystem>>();

  private constructor(
    readonly readonly: boolean,
    readonly scan: VolumeScan,
    private readonly opts: GuestOptions,
  ) {}

  static async open(disks: DiskSpec[], opts: GuestOptions = {}): Promise<Guest> {
    opts.trace?.(`Guest.open(${disks.map((d) => JSON.stringify(d.path)).join(', ')})`);
    checkCount(disks.length);
    const readonly = opts.readonly ?? true;
    const devices: BlockDevice[] = [];
    try {
      for (const d of disks) {
        const dev = await openDisk(d.path, { format: d.format, writable: !readonly });
        devices.push(dev);
        opts.debug?.(`/dev/sd${String.fromCharCode(96 + devices.length)}: ${d.path}${d.format ? ` (format ${d.format})` : ''}, ${dev.size} bytes`);
      }
    } catch (e) {
      await Promise.all(devices.map((d) => d.close().catch(() => undefined)));
      throw e;
    }
    return Guest.openDevices(devices, opts);
  }

  /**
   * A guest over block devices already open (virt-v2v's overlays), in disk order: /dev/sda,
   * /dev/sdb… The guest owns them from here: `close` flushes and closes them, and so does a
   * failed open.
   */
  static async openDevices(disks: BlockDevice[], opts: GuestOptions = {}): Promise<Guest> {
    checkCount(disks.length);
    const readonly = opts.readonly ?? true;
    try {
      // Filters load only when asked for (start-up).
      const stack = opts.filters?.length ? (await import('../disk/filters/stack.js')).applyFilters : undefined;
      const devices = stack ? disks.map((d) => stack(d, opts.filters!)) : disks;
      const scan = await scanVolumes(devices.map((device, i) => ({ name: `/dev/sd${String.fromCharCode(97 + i)}`, device })));
      if (opts.debug) for (const line of scanSummary(scan)) opts.debug(line);
      const guest = new Guest(readonly, scan, opts);
      return opts.trace ? traced(guest, 'guest', opts.trace) : guest;
    } catch (e) {
      await Promise.all(disks.map((d) => d.close().catch(() => undefined)));
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
    this.fsCache ??= Promise.all(this.candidates().map(({ name, device }) => this.probeCandidate(name, device)));
    return this.fsCache;
  }

  /** What is on one device; a filesystem that probes but cannot be opened keeps the reason. */
  private async probeCandidate(name: string, device: BlockDevice): Promise<FsCandidate> {
    const debug = this.opts.debug;
    const unknown: FsCandidate = { name, device, type: 'unknown', label: '', uuid: '', size: device.size };
    const driver = await probeFilesystem(device);
    if (!driver) {
      debug?.(`${name}: no filesystem recognised`);
      return unknown;
    }
    try {
      const id = await driver.identify(device);
      debug?.(`${name}: ${id.type}`);
      return { name, device, ...id };
    } catch (e) {
      const error = (e as Error).message;
      debug?.(`${name}: probed as ${driver.type}, but it cannot be opened: ${error}`);
      return { ...unknown, probed: driver.type, error };
    }
  }

  /**
   * Open the filesystem on a device name ("/dev/sda1", "/dev/vg0/root"). A read-only open with
   * no driver options or type is the device's shared reader; a writable open closes that first.
   */
  async openFilesystem(name: string, opts: MountOptions = {}): Promise<Filesystem> {
    const { fstype, ...fsOpts } = opts;
    const writable = fsOpts.writable ?? !this.readonly;
    if (writable && this.readonly) throw new GuestError('read-only', 'EROFS', `${name}: the guest was opened read-only`);
    const shared = !writable && fstype === undefined && fsOpts.options === undefined && fsOpts.warn === undefined;
    const reader = shared ? this.readers.get(name) : undefined;
    const fs = await (reader ?? this.openNew(name, fstype, { ...fsOpts, writable }, shared));
    return this.opts.trace ? traced(fs, name, this.opts.trace) : fs;
  }

  private async openNew(name: string, fstype: string | undefined, fsOpts: FsOpenOptions & { writable: boolean }, shared: boolean): Promise<Filesystem> {
    const cand = this.candidates().find((c) => c.name === name);
    if (!cand) {
      const known = this.candidates().map((c) => c.name).join(', ');
      throw new GuestError('no-device', 'ENOENT', `${name}: no such device (devices: ${known || 'none'})`);
    }
    const driver = fstype !== undefined ? driverForType(fstype) : await probeFilesystem(cand.device);
    if (!driver) throw new GuestError('no-filesystem', 'ENODEV', `${name}: no filesystem guestkit can read on this device`);
    // A writer changes the device under a reader's caches: the reader goes first.
    if (fsOpts.writable) await this.dropReader(name);
    this.opts.debug?.(`${name}: opening as ${driver.type}${fstype !== undefined ? ` (type ${fstype} given)` : ''}${fsOpts.writable ? ', writable' : ''}`);
    const opening = driver.open(cand.device, { warn: this.opts.warn, ...fsOpts });
    if (shared) {
      this.readers.set(name, opening);
      opening.catch(() => this.readers.delete(name));
    }
    const fs = await opening;
    this.opened.push(fs);
    return fs;
  }

  private async dropReader(name: string): Promise<void> {
    const reader = this.readers.get(name);
    if (!reader) return;
    this.readers.delete(name);
    const fs = await reader;
    this.opened.splice(this.opened.indexOf(fs), 1);
    await fs.close();
  }

  /** Mount a device's filesystem at a path of the guest namespace ("/", "/boot"). */
  async mount(name: string, mountpoint: string, opts: MountOptions = {}): Promise<Filesystem> {
    const fs = await this.openFilesystem(name, opts);
    this.mounts.add(mountpoint, fs, name);
    return fs;
  }

  async close(): Promise<void> {
    this.readers.clear();
    for (const fs of this.opened.splice(0)) await fs.close();
    const devs = [...new Set(this.scan.disks.map((d) => d.device))];
    for (const d of devs) {
      await d.flush();
      await d.close();
    }
  }
}

function checkCount(n: number): void {
  if (n === 0) throw new GuestError('no-disks', 'EINVAL', 'no disk images given');
  if (n > 26) throw new GuestError('too-many-disks', 'EINVAL', `too many disks: ${n} (at most 26)`);
}

/** The verbose account of a volume scan: one line per table, partition, VG and LV. */
function scanSummary(scan: VolumeScan): string[] {
  return [
    ...scan.disks.map((d) => `${d.name}: ${scan.tables[d.name] ? `${scan.tables[d.name]} partition table` : 'no partition table'}`),
    ...scan.partitions.map((p) => `${p.name}: partition ${p.number}, type ${p.type}, ${p.size} bytes at ${p.start}`),
    ...scan.pvs.map((p) => `${p.name}: LVM PV of VG "${p.vg}"`),
    ...scan.lvs.map((l) => `${l.name}: LV, ${l.size} bytes`),
  ];
}
