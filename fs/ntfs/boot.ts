/**
 * The NTFS boot sector: geometry and where $MFT lives. The primary copy is sector 0; mkntfs
 * and Windows keep a backup in the last sector of the device, used when the primary is bad.
 */
import type { BlockDevice } from '../../disk/block-device.js';
import { corrupt } from '../errors.js';

export interface BootSector {
  bytesPerSector: number;
  clusterSize: number;
  totalClusters: number;
  mftLcn: number;
  mftMirrLcn: number;
  mftRecordSize: number;
  indexRecordSize: number;
  serial: bigint;
  /** Byte offset on the device the sector was read from (0, or the backup's). */
  at: bigint;
}

const OEM = 'NTFS    ';
const MAX_CLUSTER = 2 * 1024 * 1024;

/** Clusters-per-record fields: positive = clusters, negative = 2^-v bytes. */
function recordSize(v: number, clusterSize: number): number {
  return v > 0 ? v * clusterSize : 2 ** -v;
}

/** Parse one 512-byte candidate; a string says why it is not an NTFS boot sector. */
export function parseBoot(b: Buffer, devSize: bigint, at: bigint): BootSector | string {
  if (b.length < 512) return 'short read';
  if (b.toString('latin1', 3, 11) !== OEM) return 'no "NTFS" signature';
  if (b.readUInt16LE(510) !== 0xaa55) return 'no 0xAA55 boot signature';
  const bps = b.readUInt16LE(0x0b);
  if (bps < 256 || bps > 4096 || (bps & (bps - 1)) !== 0) return `bad bytes per sector ${bps}`;
  const spcRaw = b.readUInt8(0x0d);
  // Values above 0x80 are negative exponents, used for clusters beyond 64 KiB.
  const spc = spcRaw > 0x80 ? 2 ** (256 - spcRaw) : spcRaw;
  if (spc === 0 || (spc & (spc - 1)) !== 0) return `bad sectors per cluster ${spcRaw}`;
  const clusterSize = bps * spc;
  if (clusterSize > MAX_CLUSTER) return `cluster size ${clusterSize} above 2 MiB`;
  const totalSectors = b.readBigUInt64LE(0x28);
  if (totalSectors * BigInt(bps) > devSize) return `${totalSectors} sectors do not fit the device of ${devSize} bytes`;
  const totalClusters = Number(totalSectors / BigInt(spc));
  const mftLcn = b.readBigUInt64LE(0x30);
  const mftMirrLcn = b.readBigUInt64LE(0x38);
  if (mftLcn >= BigInt(totalClusters) || mftMirrLcn >= BigInt(totalClusters)) return `$MFT cluster ${mftLcn} or $MFTMirr cluster ${mftMirrLcn} past the volume`;
  const mftRecordSize = recordSize(b.readInt8(0x40), clusterSize);
  const indexRecordSize = recordSize(b.readInt8(0x44), clusterSize);
  if (mftRecordSize < 256 || mftRecordSize > 65536 || (mftRecordSize & (mftRecordSize - 1)) !== 0) return `bad MFT record size ${mftRecordSize}`;
  if (indexRecordSize < 256 || indexRecordSize > 65536 || (indexRecordSize & (indexRecordSize - 1)) !== 0) return `bad index record size ${indexRecordSize}`;
  return {
    bytesPerSector: bps, clusterSize, totalClusters, mftLcn: Number(mftLcn), mftMirrLcn: Number(mftMirrLcn),
    mftRecordSize, indexRecordSize, serial: b.readBigUInt64LE(0x48), at,
  };
}

/** Read the primary boot sector, falling back to the backup in the device's last sector. */
/** The volume serial number as libguestfs shows an NTFS UUID: 16 upper-case hex digits. */
export function ntfsUuid(boot: BootSector): string {
  return boot.serial.toString(16).toUpperCase().padStart(16, '0');
}

export async function readBoot(dev: BlockDevice, warn?: (m: string) => void): Promise<BootSector> {
  if (dev.size < 1024n) throw corrupt(dev.name, 'NTFS boot sector', `device of ${dev.size} bytes is too small`);
  const primary = parseBoot(await dev.read(0n, 512), dev.size, 0n);
  if (typeof primary !== 'string') return primary;
  const at = dev.size - 512n;
  const backup = parseBoot(await dev.read(at, 512), dev.size, at);
  if (typeof backup === 'string') throw corrupt(dev.name, 'NTFS boot sector', `${primary}; backup boot sector: ${backup}`, 0);
  warn?.(`${dev.name}: NTFS boot sector: ${primary}; using the backup boot sector at byte ${at}`);
  return backup;
}
