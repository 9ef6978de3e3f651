/** What the volume layer finds on a set of disks, named as libguestfs names them. */
import type { BlockDevice } from '../disk/block-device.js';

export interface Disk {
  /** "/dev/sda", "/dev/sdb", … in the order the images were given. */
  name: string;
  device: BlockDevice;
}

export interface Partition {
  /** "/dev/sda1"; logical MBR partitions start at 5 as in Linux. */
  name: string;
  disk: string;
  /** 1-based partition number. */
  number: number;
  /** Byte offset on the disk and size in bytes. */
  start: bigint;
  size: bigint;
  /** MBR type byte as two hex digits ("83"), or the GPT type GUID (upper case). */
  type: string;
  /** GPT unique partition GUID (upper case), where the table is GPT. */
  guid?: string;
  /** MBR disk signature (the 32-bit value at byte 0x1B8), which Windows and PARTUUID= name MBR partitions by. */
  diskSignature?: number;
  /** GPT partition name. */
  label?: string;
  /** Table kind of the disk it lives on. */
  scheme: 'mbr' | 'gpt';
  /** MBR: 0x80 bootable flag; extended container partitions are listed but hold no filesystem. */
  bootable?: boolean;
  extended?: boolean;
  device: BlockDevice;
}

export interface PhysicalVolume {
  /** The device holding the PV: "/dev/sda2" or "/dev/sdb". */
  name: string;
  uuid: string;
  vg: string;
  size: bigint;
}

export interface VolumeGroup {
  name: string;
  uuid: string;
  size: bigint;
  free: bigint;
  pvs: string[];
}

export interface LogicalVolume {
  /** "/dev/vg0/root". */
  name: string;
  vg: string;
  lv: string;
  uuid: string;
  size: bigint;
  device: BlockDevice;
}

export interface VolumeScan {
  disks: Disk[];
  /** Partition table scheme per disk name ("mbr", "gpt", or absent when unpartitioned). */
  tables: Record<string, 'mbr' | 'gpt'>;
  partitions: Partition[];
  pvs: PhysicalVolume[];
  vgs: VolumeGroup[];
  lvs: LogicalVolume[];
  /** Problems that did not stop the scan (a damaged primary GPT read from its backup, a VG missing a PV). */
  warnings: string[];
}
