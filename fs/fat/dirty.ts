/**
 * The boot sector's dirty bit, as Linux's vfat keeps it: set while mounted read-write and
 * cleared at a clean unmount, so fsck.fat and Windows see a volume that was not unmounted.
 * It lives in the state byte of the extended BPB (offset 0x25 on FAT12/16, 0x41 on FAT32),
 * which is only there when the extended boot signature (0x28 or 0x29) follows it.
 */
import type { BlockDevice } from '../../disk/block-device.js';

const DIRTY = 0x01;

/** Set or clear the bit; answers whether it was set before (undefined: no extended BPB). */
export async function setDirtyBit(dev: BlockDevice, fat32: boolean, dirty: boolean): Promise<boolean | undefined> {
  const at = fat32 ? 0x41 : 0x25;
  const sector = await dev.read(0n, 512);
  const sig = sector[at + 1];
  if (sig !== 0x28 && sig !== 0x29) return undefined;
  const was = (sector[at]! & DIRTY) !== 0;
  if (was === dirty) return was;
  sector[at] = dirty ? sector[at]! | DIRTY : sector[at]! & ~DIRTY;
  await dev.write(0n, sector.subarray(0, 512));
  await dev.flush();
  return was;
}
