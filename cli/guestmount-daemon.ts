/** The serving half of guestmount: open the images, mount as asked, serve until unmounted. */
import type { DiskSpec, Guest } from '../guest/guest.js';
import { inspectGuest, mountOs, onlyOs } from '../inspect/inspect.js';
import { serve } from '../mount/daemon.js';
import { lockImages } from '../mount/image-lock.js';
import { mountOptions, parseMountSpec } from './common.js';
import { openGuest } from './open.js';

export interface DaemonRequest {
  disks: DiskSpec[];
  mountpoint: string;
  mount: string[];
  inspector: boolean;
  readonly: boolean;
  fuseOptions: string[];
  cacheTimeout: number;
  filters: string[];
  verbose: boolean;
  trace: boolean;
  timings: boolean;
}

const say = (line: string) => process.stderr.write(`guestmount: ${line}\n`);

/** Resolves once the mount is ready; `done` resolves with the exit code after the unmount. */
export async function runDaemon(r: DaemonRequest): Promise<{ done: Promise<number> }> {
  const marks: [string, number][] = [['start', 0]];
  // Only --timings reads the clock: its module costs start-up time otherwise.
  const mark = (phase: string) => r.timings && marks.push([phase, performance.now()]);
  mark('loaded');
  // Writers lock every image as qemu does, before opening any of them for writing.
  const lock = r.readonly ? undefined : await lockImages(r.disks.map((d) => d.path));
  try {
    // FUSE calls are traced by the daemon itself (-x), so the Guest's own trace stays off.
    const guest = await openGuest(r.disks, { filter: r.filters, verbose: r.verbose }, r.readonly);
    mark('open images, scan volumes');
    try {
      if (r.inspector) {
        await mountInspected(guest);
        mark('inspect');
      }
      // Parents before children: "/" before "/boot".
      const specs = r.mount.map(parseMountSpec).sort((a, b) => a.mountpoint.length - b.mountpoint.length);
      for (const m of specs) {
        await guest.mount(m.device, m.mountpoint, { options: mountOptions(m.options), warn: (w) => say(`warning: ${m.device}: ${w}`) });
      }
      mark('open filesystems');
      const served = await serve(guest, r.mountpoint, {
        readonly: r.readonly, cacheTimeout: r.cacheTimeout, fuseOptions: r.fuseOptions,
        trace: r.trace ? say : undefined, verbose: r.verbose ? say : undefined,
      });
      mark('FUSE ready');
      if (r.timings) {
        const origin = performance.timeOrigin;
        say(`timings (ms since the process started at ${new Date(origin).toISOString()}):`);
        for (const [phase, t] of marks) say(`  ${t.toFixed(1).padStart(8)}  ${phase}`);
      }
      const stop = () => void served.unmount();
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      process.once('SIGHUP', stop);
      const done = served.done.then(
        () => (lock?.release(), 0),
        (e: unknown) => (say(`error while closing: ${(e as Error).message}`), lock?.release(), 1),
      );
      return { done };
    } catch (e) {
      await guest.close().catch(() => undefined);
      throw e;
    }
  } catch (e) {
    lock?.release();
    throw e;
  }
}

/**
 * -i: mount what inspection finds, as the guest would. Linux: the root and every fstab entry
 * at its place. Windows: each drive letter as a top-level directory (/C, /D); volumes with no
 * letter are not shown.
 */
async function mountInspected(guest: Guest): Promise<void> {
  const { oses } = await inspectGuest(guest, { applications: false, warn: (w) => say(`warning: ${w}`) });
  const os = onlyOs(oses);
  if (!os) throw new Error('no operating system was found on this disk: name the filesystems with -m DEVICE[:MOUNTPOINT]');
  if (os.type !== 'windows') return mountOs(guest, os, (w) => say(`warning: ${w}`));
  if (os.driveLetters.length === 0) throw new Error(`${os.root}: Windows with no drive letters in the registry: use -m`);
  const mounted = new Set<string>();
  for (const { letter, device } of os.driveLetters) {
    // One writer per filesystem: a device mapped to two letters shows under the first.
    if (mounted.has(device)) continue;
    mounted.add(device);
    await guest.mount(device, `/${letter.toUpperCase()}`);
  }
}
