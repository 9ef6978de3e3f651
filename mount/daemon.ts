/**
 * Serve a Guest's mounted filesystems on a host directory until it is unmounted, then flush
 * and close. Unmounting comes from guestunmount or `fusermount -u` (seen by watching
 * mountinfo, since libfuse 2's loop ends without telling fuse-native), or from SIGTERM/SIGINT
 * (we unmount ourselves). Either way every acknowledged write is on the image before exit.
 */
import { realpath } from 'node:fs';
import { promisify } from 'node:util';
import type { Guest } from '../guest/guest.js';
import { fuseMount } from './fuse.js';
import { Handles } from './handles.js';
import { MountWatch } from './mountinfo.js';
import { Namespace } from './namespace.js';
import { buildOps } from './ops.js';

const POLL_MS = 100;

export interface DaemonOptions {
  readonly: boolean;
  /** --dir-cache-timeout, seconds. */
  cacheTimeout: number;
  /** -o options for libfuse. */
  fuseOptions: string[];
  trace?: (line: string) => void;
  verbose?: (line: string) => void;
}

export interface ServedMount {
  mountpoint: string;
  /** Resolves once the mount is gone and the guest flushed and closed. */
  done: Promise<void>;
  /** Unmount (lazily when busy, as libfuse does on a signal). */
  unmount(): Promise<void>;
}

export async function serve(guest: Guest, mountpoint: string, opts: DaemonOptions): Promise<ServedMount> {
  const mnt = await promisify(realpath)(mountpoint);
  const owner = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  const ns = new Namespace(guest.mounts, owner);
  const handles = new Handles();
  const ops = buildOps({
    ns, handles, writable: !opts.readonly, ...owner, trace: opts.trace,
    onError: opts.verbose && ((op, path, e) => opts.verbose!(`${op} ${path}: ${(e as Error).message}`)),
  });
  const { mount: ours } = await fuseMount(mnt, ops, { readonly: opts.readonly, cacheTimeout: opts.cacheTimeout, fsname: `guestmount:${process.pid}`, extra: opts.fuseOptions });

  let gone!: () => void;
  const unmounted = new Promise<void>((r) => (gone = r));
  const watch = await MountWatch.open(ours);
  const timer = setInterval(() => {
    watch.present().then((here) => here || gone(), () => undefined);
  }, POLL_MS);

  const done = unmounted.then(async () => {
    clearInterval(timer);
    await watch.close();
    // Calls already running finish before the flush.
    await ops.idle();
    await guest.close();
  });

  async function unmount(): Promise<void> {
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const run = promisify(execFile);
    try {
      await run('fusermount', ['-u', mnt]);
    } catch {
      await run('fusermount', ['-u', '-z', mnt]).catch(() => undefined);
    }
    gone();
  }
  return { mountpoint: mnt, done, unmount };
}
