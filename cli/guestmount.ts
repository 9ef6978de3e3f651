#!/usr/bin/env node
/**
 * guestmount: mount the filesystems of disk images on a host directory through FUSE.
 * Without --no-fork the command starts the daemon as a child and returns only once the mount
 * is ready (or failed), so a script can use it at once; the daemon's stdio is detached.
 * The library is imported only in the process that serves the mount. The installed command
 * is guestmount.sh, which starts the daemon itself in the usual quiet case (one Node start).
 */
import type { ChildProcess } from 'node:child_process';
import { access, closeSync, constants, writeFile, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describeError, diskOptions, main, mountOptionSpecs, parseTool, UsageError } from './common.js';

/** The daemon child tells its parent "ready" or the error on this descriptor. */
const READY_ENV = 'GUESTMOUNT_READY_FD';

const USAGE = `Usage: guestmount -a IMAGE [-a IMAGE...] [--format=FMT] {-m DEV[:MNT[:OPTS[:FSTYPE]]]... | -i}
                  [--ro|--rw] [-o FUSEOPT]... [--dir-cache-timeout=N] [--fd=N] [--pid-file=FILE]
                  [--no-fork] [--filter=SPEC]... [-v] [-x] [--timings] MOUNTPOINT
`;

const options = {
  ...diskOptions,
  ...mountOptionSpecs,
  ro: { type: 'boolean', short: 'r' },
  rw: { type: 'boolean', short: 'w' },
  option: { type: 'string', short: 'o', multiple: true },
  fd: { type: 'string' },
  'pid-file': { type: 'string' },
  'no-fork': { type: 'boolean' },
  'dir-cache-timeout': { type: 'string' },
  timings: { type: 'boolean' },
} as const;

/** libguestfs's default for --dir-cache-timeout (seconds). */
const DEFAULT_CACHE_TIMEOUT = 60;

const readyFd = process.env[READY_ENV] === undefined ? undefined : parseFd(process.env[READY_ENV]!, READY_ENV);
delete process.env[READY_ENV];
main(async (argv) => {
  try {
    return await guestmount(argv);
  } catch (e) {
    if (readyFd === undefined) throw e;
    // To the waiting parent: one line, with the option that fixes it as the other tools print
    // it, then a usage error's usage text.
    tell(readyFd, `error ${describeError(e).replace(/\n/g, ' ')}${e instanceof UsageError ? `\n${e.usage.trimEnd()}` : ''}`);
    process.exit(1);
  }
});

async function guestmount(argv: string[]): Promise<number> {
  const parsed = parseTool(argv, options, USAGE);
  if (!parsed) return 0;
  const { values: v, positionals, disks } = parsed;
  if (positionals.length !== 1) throw new UsageError('give exactly one mountpoint', USAGE);
  if (!v.mount?.length && !v.inspector) throw new UsageError('must have at least one -m or -i option', USAGE);
  if (v.ro && v.rw) throw new Error('--ro and --rw are contradictory');
  const fd = v.fd === undefined ? undefined : parseFd(v.fd, '--fd');
  const cacheTimeout = v['dir-cache-timeout'] === undefined ? DEFAULT_CACHE_TIMEOUT : Number(v['dir-cache-timeout']);
  if (!Number.isFinite(cacheTimeout) || cacheTimeout < 0) throw new Error(`--dir-cache-timeout ${v['dir-cache-timeout']}: not a number of seconds`);
  await promisify(access)('/dev/fuse', constants.R_OK | constants.W_OK).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') throw new Error('/dev/fuse is missing: this host has no FUSE (load the fuse module, or in a container pass --device /dev/fuse)');
    throw new Error(`/dev/fuse: ${e.code === 'EACCES' ? 'permission denied: this user may not use FUSE (the device is usually mode 0666)' : e.message}`);
  });
  if (!v['no-fork']) {
    const keepStderr = !!(v.verbose || v.trace || v.timings);
    return waitForDaemon(await startDaemon(argv, fd, keepStderr), fd);
  }

  const { runDaemon } = await import('./guestmount-daemon.js');
  const served = await runDaemon({
    disks, mountpoint: positionals[0]!, mount: v.mount ?? [], inspector: !!v.inspector, readonly: !!v.ro,
    fuseOptions: v.option ?? [], cacheTimeout, filters: v.filter ?? [], verbose: !!v.verbose, trace: !!v.trace, timings: !!v.timings,
  });
  if (v['pid-file']) await promisify(writeFile)(v['pid-file'], `${process.pid}\n`);
  if (fd !== undefined) writeFileSync(fd, 'x');
  if (readyFd !== undefined) tell(readyFd, 'ready');
  // fuse-native's handles keep the event loop alive after the unmount: leave explicitly.
  process.exit(await served.done);
}

function tell(fd: number, line: string): void {
  writeFileSync(fd, `${line}\n`);
  closeSync(fd);
}

function parseFd(s: string, what: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${what}=${s}: not a file descriptor number`);
  return n;
}

/**
 * Start this command again with --no-fork as a detached daemon. It keeps --fd's descriptor
 * (it signals readiness on it) and, with -v/-x/--timings, stderr.
 */
async function startDaemon(argv: string[], fd: number | undefined, keepStderr: boolean): Promise<ChildProcess> {
  // Loaded here: the daemon, which is this same file, never needs it.
  const { spawn } = await import('node:child_process');
  const readyFd = fd === 3 ? 4 : 3;
  const stdio: ('ignore' | 'pipe' | 'inherit' | number)[] = ['ignore', 'ignore', keepStderr ? 'inherit' : 'ignore'];
  if (fd !== undefined) {
    while (stdio.length <= fd) stdio.push('ignore');
    stdio[fd] = fd;
  }
  while (stdio.length <= readyFd) stdio.push('ignore');
  stdio[readyFd] = 'pipe';
  return spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...argv, '--no-fork'], {
    stdio, detached: true, env: { ...process.env, [READY_ENV]: String(readyFd) },
  });
}

/** Wait for the daemon's word: "ready", or the error that stopped it. */
async function waitForDaemon(child: ChildProcess, fd: number | undefined): Promise<number> {
  const pipe = child.stdio[fd === 3 ? 4 : 3] as NodeJS.ReadableStream;
  let said = '';
  pipe.setEncoding('utf8');
  pipe.on('data', (s: string) => (said += s));
  const exited = await new Promise<number | null>((resolve) => {
    pipe.on('end', () => resolve(null));
    child.on('exit', (code) => resolve(code ?? 1));
  });
  if (said.startsWith('ready')) {
    child.unref();
    return 0;
  }
  const message = said.startsWith('error ') ? said.slice(6).split('\n')[0]!.trim() : `the daemon exited (${exited ?? 'status unknown'}) before the mount was ready`;
  throw new Error(message);
}
