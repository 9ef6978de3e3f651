/**
 * The target guest's hardware, worked out once from the source, the converted guest and the
 * network mappings, and then written as libvirt XML (`-o local`) or a qemu command line
 * (`-o qemu`).
 */
import { existsSync } from 'node:fs';
import type { DiskBus, Firmware, NicModel } from '../types.js';
import type { NetworkMap, Vnet } from './networks.js';
import type { OutputJob, TargetFormat } from './output.js';

export interface TargetDisk {
  file: string;
  format: TargetFormat;
  bus: DiskBus;
  /** libvirt's target name: vda, sda, hda… */
  dev: string;
}

export interface TargetCdrom {
  bus: DiskBus;
  dev: string;
}

export interface TargetNic {
  mac?: string;
  vnet: Vnet;
  model: NicModel;
}

export interface Hardware {
  name: string;
  /** libvirt's name: x86_64, i686. */
  arch: string;
  /** q35, unless a disk is on IDE, which only i440fx ("pc") has. */
  machine: 'q35' | 'pc';
  firmware: Firmware;
  /** OVMF's code and variable template (UEFI only). */
  uefi?: { code: string; vars: string };
  memoryKiB: bigint;
  /** The guest's hardware clock (Windows: local time unless RealTimeIsUniversal). */
  clock: 'utc' | 'localtime';
  vcpus: number;
  disks: TargetDisk[];
  cdroms: TargetCdrom[];
  nics: TargetNic[];
  video: OutputJob['converted']['video'];
  guestAgent: boolean;
  rng: boolean;
  balloon: boolean;
}

/** OVMF as Debian, Fedora and older Debian ship it; the first present on this host is named. */
const OVMF = [
  { code: '/usr/share/OVMF/OVMF_CODE_4M.fd', vars: '/usr/share/OVMF/OVMF_VARS_4M.fd' },
  { code: '/usr/share/edk2/ovmf/OVMF_CODE.fd', vars: '/usr/share/edk2/ovmf/OVMF_VARS.fd' },
  { code: '/usr/share/OVMF/OVMF_CODE.fd', vars: '/usr/share/OVMF/OVMF_VARS.fd' },
] as const;

const PREFIX: Record<DiskBus, string> = { virtio: 'vd', sata: 'sd', scsi: 'sd', ide: 'hd' };

/** The hardware of `job`'s guest with its disks at `files` (written in `format`). */
export function hardwareOf(job: OutputJob, files: string[], format: TargetFormat, networks: NetworkMap): Hardware {
  const { converted: c, source, os } = job;
  const machine = c.diskBus === 'ide' ? 'pc' : 'q35';
  // Each name prefix counts on from the last one given, so CD-ROMs follow the disks of their bus.
  const used = new Map<string, number>();
  const devName = (bus: DiskBus) => {
    const prefix = PREFIX[bus];
    const n = used.get(prefix) ?? 0;
    used.set(prefix, n + 1);
    return `${prefix}${String.fromCharCode(97 + n)}`;
  };
  const disks = files.map((file) => ({ file, format, bus: c.diskBus, dev: devName(c.diskBus) }));
  const cdroms = source.cdroms.map((cd) => {
    // A CD-ROM cannot be virtio, and q35 has no IDE.
    const bus: DiskBus = cd.bus === 'virtio' || (cd.bus === 'ide' && machine === 'q35') ? (machine === 'q35' ? 'sata' : 'ide') : cd.bus;
    return { bus, dev: devName(bus) };
  });
  return {
    name: job.name,
    arch: os.arch === 'i386' || os.arch === 'i486' || os.arch === 'i586' ? 'i686' : os.arch || 'x86_64',
    machine,
    firmware: c.firmware,
    uefi: c.firmware === 'uefi' ? (OVMF.find((f) => existsSync(f.code)) ?? OVMF[0]) : undefined,
    memoryKiB: source.memory / 1024n,
    clock: c.clock,
    vcpus: source.vcpus,
    disks,
    cdroms,
    nics: source.nics.map((nic) => ({ mac: nic.mac, vnet: networks.map(nic), model: c.nicModel })),
    video: c.video,
    guestAgent: c.guestAgent,
    rng: c.virtioRng,
    balloon: c.virtioBalloon,
  };
}
