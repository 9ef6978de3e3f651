/** Copy the converted disks to their targets, --parallel at once, with one progress total. */
import type { BlockDevice } from '../../disk/block-device.js';
import { copyDisk, type CopyOptions } from '../copy.js';
import { Workers } from '../workers.js';
import type { CopyEvents } from './output.js';

/**
 * Copy disk i to `target(disk, i)`, which creates it; each target is flushed and closed when
 * its copy ends, also on failure.
 */
export async function copyDisks(
  disks: BlockDevice[],
  target: (disk: BlockDevice, index: number) => Promise<BlockDevice>,
  opts: Pick<CopyOptions, 'allocate'>,
  events: CopyEvents,
): Promise<void> {
  const total = disks.reduce((n, d) => n + d.size, 0n);
  const done = disks.map(() => 0n);
  const report = () => events.progress?.(done.reduce((a, b) => a + b, 0n), total);
  let next = 0;
  const workers = new Workers();
  const worker = async () => {
    for (let i = next++; i < disks.length && !workers.failed; i = next++) {
      const disk = disks[i]!;
      events.message(`Copying disk ${i + 1}/${disks.length}`);
      const dst = await target(disk, i);
      try {
        await copyDisk(disk, dst, {
          ...opts,
          progress: (n) => {
            done[i] = n;
            report();
          },
        });
        await dst.flush();
      } finally {
        await dst.close();
      }
    }
  };
  report();
  await workers.run(Math.min(events.parallel, disks.length), worker);
}
