/** Building a Partition: libguestfs's name for it and a window device that names both. */
import { WindowDevice } from '../disk/window.js';
import type { Disk, Partition } from './types.js';

/** "/dev/sda" + 1 → "/dev/sda1"; a disk name ending in a digit takes a "p" ("/dev/nvme0n1p1"). */
export function partitionName(diskName: string, number: number): string {
  return /\d$/.test(diskName) ? `${diskName}p${number}` : `${diskName}${number}`;
}

export type PartitionFields = Omit<Partition, 'name' | 'disk' | 'device'>;

export function makePartition(disk: Disk, fields: PartitionFields, sectorSize: number): Partition {
  const name = partitionName(disk.name, fields.number);
  const device = new WindowDevice(`${disk.device.name} (${name})`, disk.device, fields.start, fields.size);
  device.sectorSize = sectorSize;
  return { name, disk: disk.name, ...fields, device };
}
