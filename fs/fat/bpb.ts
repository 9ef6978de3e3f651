/**
 * The boot sector's BIOS Parameter Block (Microsoft fatgen103 §3), checked field by field,
 * and the volume geometry derived from it. The FAT type follows the spec's cluster-count
 * rule, except that a FAT32-shaped BPB (16-bit FAT size 0, no fixed root) is FAT32 whatever
 * its cluster count, as Linux decides.
 */
import { corrupt } from '../errors.js';
import { decodeCp437 } from './cp437.js';

export type FatType = 12 | 16 | 32;

export interface Geometry {
  type: FatType;
  bytesPerSector: number;
  sectorsPerCluster: number;
  clusterSize: number;
  reservedSectors: number;
  fatCount: number;
  /** Sectors per FAT. */
  fatSectors: number;
  rootEntries: number;
  totalSectors: number;
  /** Byte offset of the first FAT. */
  fatOffset: number;
  /** Byte offset of the fixed root directory (FAT12/16). */
  rootOffset: number;
  /** Byte offset of cluster 2. */
  dataOffset: number;
  /** Data clusters: valid cluster numbers are 2 .. clusterCount+1. */
  clusterCount: number;
  /** First cluster of the root directory (FAT32), else 0. */
  rootCluster: number;
  /** Sector of the FSInfo structure (FAT32), else 0. */
  fsInfoSector: number;
  /** FATs that writes update: all when mirrored, else only the active one. */
  writeFats: number[];
  /** FAT that reads use. */
  readFat: number;
  /** Volume serial number; undefined without an extended boot signature. */
  serial: number | undefined;
  /** BPB volume label, trailing spaces removed ('' for none or "NO NAME"). */
  label: string;
}

const OFF = {
  jump: 0,
  bytesPerSector: 11,
  sectorsPerCluster: 13,
  reservedSectors: 14,
  fatCount: 16,
  rootEntries: 17,
  totalSectors16: 19,
  media: 21,
  fatSize16: 22,
  totalSectors32: 32,
  // FAT12/16 extended BPB
  bootSig16: 38,
  serial16: 39,
  label16: 43,
  // FAT32 extended BPB
  fatSize32: 36,
  extFlags: 40,
  fsVersion: 42,
  rootCluster: 44,
  fsInfo: 48,
  bootSig32: 66,
  serial32: 67,
  label32: 71,
} as const;

const MAX_CLUSTERS_32 = 0x0ffffff5;

function isPow2(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

/** Parse and check the boot sector (at least 512 bytes) of a device of `deviceSize` bytes. */
export function parseBpb(bs: Buffer, device: string, deviceSize: bigint): Geometry {
  const bad = (what: string, off: number) => corrupt(device, 'FAT boot sector', what, off);
  const jump = bs.readUInt8(OFF.jump);
  if (jump !== 0xeb && jump !== 0xe9) throw bad(`no x86 jump instruction (first byte 0x${jump.toString(16)})`, OFF.jump);
  const bytesPerSector = bs.readUInt16LE(OFF.bytesPerSector);
  if (!isPow2(bytesPerSector) || bytesPerSector < 512 || bytesPerSector > 4096) {
    throw bad(`bytes per sector ${bytesPerSector} is not a power of two in 512..4096`, OFF.bytesPerSector);
  }
  const sectorsPerCluster = bs.readUInt8(OFF.sectorsPerCluster);
  if (!isPow2(sectorsPerCluster)) throw bad(`sectors per cluster ${sectorsPerCluster} is not a power of two in 1..128`, OFF.sectorsPerCluster);
  const reservedSectors = bs.readUInt16LE(OFF.reservedSectors);
  if (reservedSectors < 1) throw bad('reserved sector count is 0', OFF.reservedSectors);
  const fatCount = bs.readUInt8(OFF.fatCount);
  if (fatCount < 1 || fatCount > 4) throw bad(`FAT count ${fatCount} is not in 1..4`, OFF.fatCount);
  const media = bs.readUInt8(OFF.media);
  if (media !== 0xf0 && media < 0xf8) throw bad(`media byte 0x${media.toString(16)} is not 0xF0 or 0xF8..0xFF`, OFF.media);
  const rootEntries = bs.readUInt16LE(OFF.rootEntries);
  const total16 = bs.readUInt16LE(OFF.totalSectors16);
  const totalSectors = total16 !== 0 ? total16 : bs.readUInt32LE(OFF.totalSectors32);
  if (totalSectors === 0) throw bad('total sector count is 0', total16 !== 0 ? OFF.totalSectors16 : OFF.totalSectors32);
  if (BigInt(totalSectors) * BigInt(bytesPerSector) > deviceSize) {
    throw bad(`total sectors ${totalSectors} × ${bytesPerSector} bytes pass the end of the device (${deviceSize} bytes)`, OFF.totalSectors32);
  }
  const fat16Size = bs.readUInt16LE(OFF.fatSize16);
  const fat32Shaped = fat16Size === 0;
  const fatSectors = fat32Shaped ? bs.readUInt32LE(OFF.fatSize32) : fat16Size;
  if (fatSectors === 0) throw bad('sectors per FAT is 0', OFF.fatSize32);
  if (fat32Shaped && rootEntries !== 0) throw bad(`FAT32 BPB with ${rootEntries} fixed root entries`, OFF.rootEntries);
  if (!fat32Shaped && rootEntries === 0) throw bad('FAT12/16 BPB with no root directory entries', OFF.rootEntries);
  const rootSectors = Math.ceil((rootEntries * 32) / bytesPerSector);
  const dataSector = reservedSectors + fatCount * fatSectors + rootSectors;
  if (dataSector >= totalSectors) {
    throw bad(`reserved, FAT and root sectors (${dataSector}) leave no data area in ${totalSectors} sectors`, OFF.totalSectors32);
  }
  let clusterCount = Math.floor((totalSectors - dataSector) / sectorsPerCluster);
  const type: FatType = fat32Shaped ? 32 : clusterCount < 4085 ? 12 : clusterCount < 65525 ? 16 : 32;
  if (type === 32 && !fat32Shaped) throw bad(`${clusterCount} clusters need FAT32 but the BPB is FAT12/16-shaped`, OFF.fatSize16);
  if (type === 32 && clusterCount > MAX_CLUSTERS_32) clusterCount = MAX_CLUSTERS_32;
  const fatEntries = Math.floor((fatSectors * bytesPerSector * 8) / type);
  if (fatEntries < clusterCount + 2) {
    throw bad(`FAT of ${fatSectors} sectors holds ${fatEntries} entries, too few for ${clusterCount} clusters`, fat32Shaped ? OFF.fatSize32 : OFF.fatSize16);
  }

  let rootCluster = 0;
  let fsInfoSector = 0;
  let writeFats = Array.from({ length: fatCount }, (_, i) => i);
  let readFat = 0;
  if (type === 32) {
    const version = bs.readUInt16LE(OFF.fsVersion);
    if (version !== 0) throw bad(`FAT32 version ${version >> 8}.${version & 0xff} is not 0.0`, OFF.fsVersion);
    rootCluster = bs.readUInt32LE(OFF.rootCluster);
    if (rootCluster < 2 || rootCluster > clusterCount + 1) throw bad(`root cluster ${rootCluster} is outside 2..${clusterCount + 1}`, OFF.rootCluster);
    fsInfoSector = bs.readUInt16LE(OFF.fsInfo);
    if (fsInfoSector === 0xffff || fsInfoSector >= reservedSectors) fsInfoSector = 0;
    const extFlags = bs.readUInt16LE(OFF.extFlags);
    if (extFlags & 0x80) {
      readFat = extFlags & 0x0f;
      if (readFat >= fatCount) throw bad(`active FAT ${readFat} of ${fatCount}`, OFF.extFlags);
      writeFats = [readFat];
    }
  }
  const sigOff = type === 32 ? OFF.bootSig32 : OFF.bootSig16;
  const hasExt = bs[sigOff] === 0x29 || bs[sigOff] === 0x28;
  const serial = hasExt ? bs.readUInt32LE(type === 32 ? OFF.serial32 : OFF.serial16) : undefined;
  const rawLabel = bs[sigOff] === 0x29 ? decodeCp437(bs.subarray(type === 32 ? OFF.label32 : OFF.label16).subarray(0, 11)).trimEnd() : '';
  return {
    type,
    bytesPerSector,
    sectorsPerCluster,
    clusterSize: bytesPerSector * sectorsPerCluster,
    reservedSectors,
    fatCount,
    fatSectors,
    rootEntries,
    totalSectors,
    fatOffset: reservedSectors * bytesPerSector,
    rootOffset: (reservedSectors + fatCount * fatSectors) * bytesPerSector,
    dataOffset: dataSector * bytesPerSector,
    clusterCount,
    rootCluster,
    fsInfoSector,
    writeFats,
    readFat,
    serial,
    label: rawLabel === 'NO NAME' ? '' : rawLabel,
  };
}
