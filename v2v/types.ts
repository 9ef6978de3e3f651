/**
 * The seams of virt-v2v. An input (`v2v/input/`) finds a `Source`: the guest's hardware and
 * its disks. The pipeline (`v2v/v2v.ts`) opens each disk read-only under a local qcow2
 * overlay, so the source is never written, opens a writable `Guest` over the overlays,
 * inspects it, mounts its OS (`mountOs`) and hands it to the converter for its type
 * (`v2v/convert/linux/`, `v2v/convert/windows/`). The converter edits the guest's files and
 * registry through `GuestFiles` and answers what hardware the converted guest wants
 * (`Converted`). An output (`v2v/output/`) copies the overlays to the target disks and writes
 * the guest's description (libvirt XML, a qemu script) from the `Source` and `Converted`.
 */
import type { BlockDevice } from '../disk/block-device.js';
import type { Guest } from '../guest/guest.js';
import type { OsInfo } from '../inspect/os-info.js';
import type { GuestFiles } from './guest-files.js';

export type Firmware = 'bios' | 'uefi';
/** Disk buses as libvirt names them. */
export type DiskBus = 'ide' | 'sata' | 'scsi' | 'virtio';
/**
 * The controller a source disk sat on. NVMe is only ever a source's: as in virt-v2v, every
 * target disk goes on the bus its converter chose (virtio, or the fallback).
 */
export type SourceBus = DiskBus | 'nvme';
/** NIC models as libvirt names them. */
export type NicModel = 'virtio' | 'e1000' | 'e1000e' | 'rtl8139' | 'vmxnet3';

export interface SourceDisk {
  /** The image as the user knows it: a path, or a URL without credentials (for messages). */
  name: string;
  /** Opens the disk read-only (format given or probed; backing files and VMDK parents resolved). */
  open(): Promise<BlockDevice>;
  /** The controller it sat on in the source ("scsi0:1" → scsi), when the input knows it. */
  bus?: SourceBus;
}

export interface SourceCdrom {
  bus: DiskBus;
  /** The ISO it held, when any. */
  image?: string;
}

export interface SourceNic {
  /** "00:50:56:…" as the source had it. */
  mac?: string;
  /** The source's network or port group name ("VM Network"), mapped by --network/--bridge. */
  network: string;
  vnetType: 'network' | 'bridge';
  /** The source's model, for the report. */
  model?: NicModel;
}

export interface Source {
  name: string;
  /** Bytes. */
  memory: bigint;
  vcpus: number;
  /** What the source says; 'unknown' when it does not (a bare disk), and inspection decides. */
  firmware: Firmware | 'unknown';
  /** In guest order: the first is /dev/sda. */
  disks: SourceDisk[];
  cdroms: SourceCdrom[];
  nics: SourceNic[];
  /** Releases what the input holds open (an OVA's file, a vCenter session). */
  close(): Promise<void>;
}

/** What a converter is given beside the guest. */
export interface ConvertOptions {
  /** A virtio-win directory or ISO (VIRTIO_WIN=…); without it Windows falls back to IDE/SATA and e1000. */
  virtioWin?: string;
  /** One line per change made to the guest ("/etc/fstab: /dev/sda1 → /dev/vda1"). */
  report: (change: string) => void;
  warn: (message: string) => void;
}

/** What the converted guest needs from the hypervisor. */
export interface Converted {
  /** virtio when the guest can boot on it; otherwise the bus it can (sata, ide). */
  diskBus: DiskBus;
  nicModel: NicModel;
  video: 'virtio' | 'qxl' | 'vga' | 'cirrus';
  /** Firmware the guest boots with (from the source, or the guest's own bootloader). */
  firmware: Firmware;
  /** The guest runs qemu-guest-agent (now, or after its first boot): add its channel. */
  guestAgent: boolean;
  /** virtio-rng and virtio-balloon drivers are present. */
  virtioRng: boolean;
  virtioBalloon: boolean;
  /** What the guest keeps its hardware clock in: Linux UTC; Windows local time unless its registry says UTC. */
  clock: 'utc' | 'localtime';
}

/**
 * A conversion for one OS type: `v2v/convert/linux/convert.ts` exports `convertLinux`,
 * `v2v/convert/windows/convert.ts` exports `convertWindows`. The guest is writable (over the
 * overlays) with `os` mounted as its fstab or drive letters say; `files` edits it by path.
 */
export type Converter = (
  guest: Guest,
  os: OsInfo,
  files: GuestFiles,
  source: Source,
  opts: ConvertOptions,
) => Promise<Converted>;
