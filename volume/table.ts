/** Which partition table a disk has, and its partitions: a protective MBR entry means GPT. */
import { gptSectorSize, readGpt } from './gpt.js';
import { isProtective, mbrDiskSignature, parseMbr, readMbrPartitions } from './mbr.js';
import type { Disk, Partition } from './types.js';

const MBR_BYTES = 512;

export interface PartitionTable {
  scheme: 'mbr' | 'gpt';
  partitions: Partition[];
}

/** The disk's table, or undefined when it has none (a whole-disk filesystem or PV). */
export async function readPartitionTable(disk: Disk, warnings: string[]): Promise<PartitionTable | undefined> {
  const dev = disk.device;
  if (dev.size < BigInt(MBR_BYTES)) return undefined;
  const sector = await dev.read(0n, MBR_BYTES);
  const entries = parseMbr(sector);
  if (entries && isProtective(entries)) return { scheme: 'gpt', partitions: await readGpt(disk, warnings) };
  if (entries) {
    const diskSignature = mbrDiskSignature(sector);
    return { scheme: 'mbr', partitions: (await readMbrPartitions(disk, entries, warnings)).map((p) => ({ ...p, diskSignature })) };
  }
  // Some tools leave sector 0 blank; a GPT header at LBA 1 still says what the disk holds.
  if (await gptSectorSize(dev)) {
    warnings.push(`${dev.name}: GPT without a protective MBR`);
    return { scheme: 'gpt', partitions: await readGpt(disk, warnings) };
  }
  return undefined;
}
