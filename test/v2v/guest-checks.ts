/** Checks of a converted guest's disks with the real tools: e2fsck on every ext4 filesystem, and inspection. */
import assert from 'node:assert/strict';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { Guest } from '../../guest/guest.js';
import { inspectGuest, type OsInfo } from '../../inspect/inspect.js';
import { scratch } from '../fixtures/cache.js';
import { run } from '../fixtures/run.js';

const CHUNK = 4 << 20;

/**
 * Copy each ext4 filesystem of the guest (partitions and LVs, found by guestkit's volume
 * layer) to a file and run `e2fsck -fn` on it; returns the devices checked.
 */
export async function e2fsckAll(disks: { path: string; format: string }[]): Promise<string[]> {
  const guest = await Guest.open(disks, { readonly: true });
  const dir = await scratch('v2v-e2fsck');
  const checked: string[] = [];
  try {
    for (const fs of await guest.filesystems()) {
      if (fs.type !== 'ext4' && fs.type !== 'ext3' && fs.type !== 'ext2') continue;
      const file = join(dir, `${fs.name.replace(/\//g, '_')}.img`);
      const fh = await open(file, 'w');
      try {
        for (let off = 0n; off < fs.device.size; off += BigInt(CHUNK)) {
          const left = fs.device.size - off;
          const buf = await fs.device.read(off, Number(left < BigInt(CHUNK) ? left : BigInt(CHUNK)));
          await fh.write(buf, 0, buf.length, Number(off));
        }
      } finally {
        await fh.close();
      }
      await run('e2fsck', ['-fn', file]);
      checked.push(fs.name);
    }
  } finally {
    await guest.close();
  }
  return checked;
}

/** The one OS the disks inspect as. */
export async function inspectDisks(disks: { path: string; format: string }[]): Promise<OsInfo> {
  const guest = await Guest.open(disks, { readonly: true });
  try {
    const { oses } = await inspectGuest(guest);
    assert.equal(oses.length, 1, `one OS expected, found ${oses.length}`);
    return oses[0]!;
  } finally {
    await guest.close();
  }
}
