/** The bus of a source CD-ROM: its controller's, but never NVMe. */
import type { DiskBus, SourceBus } from '../types.js';

/** VMware has no CD-ROM on NVMe; should one appear, SATA is what q35 offers in its place. */
export function cdromBus(bus: SourceBus | undefined, fallback: DiskBus): DiskBus {
  if (bus === undefined) return fallback;
  return bus === 'nvme' ? 'sata' : bus;
}
