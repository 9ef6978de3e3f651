/** The volume layer's entry point: partition tables, then LVM over disks and partitions. */
import { readPartitionTable } from './table.js';
import type { Disk, VolumeScan } from './types.js';

export async function scanVolumes(disks: Disk[]): Promise<VolumeScan> {
  const scan: VolumeScan = { disks, tables: {}, partitions: [], pvs: [], vgs: [], lvs: [], warnings: [] };
  for (const disk of disks) {
    const table = await readPartitionTable(disk, scan.warnings);
    if (!table) continue;
    scan.tables[disk.name] = table.scheme;
    scan.partitions.push(...table.partitions);
  }
  return scan;
}
