/** The volume layer's entry point: partition tables, then LVM over disks and partitions. */
import { scanLvm, type PvCandidate } from './lvm.js';
import { readPartitionTable } from './table.js';
import type { Disk, VolumeScan } from './types.js';

export async function scanVolumes(disks: Disk[]): Promise<VolumeScan> {
  const scan: VolumeScan = { disks, tables: {}, partitions: [], pvs: [], vgs: [], lvs: [], warnings: [] };
  // PVs are found by their label, whatever the partition type says.
  const candidates: PvCandidate[] = [];
  for (const disk of disks) {
    const table = await readPartitionTable(disk, scan.warnings);
    const image = disk.device.name;
    if (!table) {
      candidates.push({ ...disk, image });
      continue;
    }
    scan.tables[disk.name] = table.scheme;
    scan.partitions.push(...table.partitions);
    candidates.push(...table.partitions.filter((p) => !p.extended).map((p) => ({ name: p.name, device: p.device, image })));
  }
  const lvm = await scanLvm(candidates, scan.warnings);
  return { ...scan, ...lvm };
}
