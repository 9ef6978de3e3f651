/**
 * FAT32's FSInfo sector (fatgen103 §5): a free-cluster count and a next-free hint, both
 * only hints. Read if its three signatures are right; rewritten after our changes.
 */
import type { BlockDevice } from '../../disk/block-device.js';

const O = { lead: 0, struct: 484, free: 488, next: 492, trail: 508 } as const;
const SIG = { lead: 0x41615252, struct: 0x61417272, trail: 0xaa550000 } as const;
const UNKNOWN = 0xffffffff;

export interface FsInfo {
  free?: number;
  next?: number;
}

export async function readFsInfo(dev: BlockDevice, offset: number): Promise<FsInfo | undefined> {
  const b = await dev.read(BigInt(offset), 512);
  if (b.readUInt32LE(O.lead) !== SIG.lead || b.readUInt32LE(O.struct) !== SIG.struct || b.readUInt32LE(O.trail) !== SIG.trail) return undefined;
  const free = b.readUInt32LE(O.free);
  const next = b.readUInt32LE(O.next);
  return { free: free === UNKNOWN ? undefined : free, next: next === UNKNOWN ? undefined : next };
}

/** Write the free count and next-free hint into a valid FSInfo sector. */
export async function writeFsInfo(dev: BlockDevice, offset: number, free: number, next: number): Promise<void> {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(free, 0);
  b.writeUInt32LE(next, 4);
  await dev.write(BigInt(offset + O.free), b);
}
