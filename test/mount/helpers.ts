/**
 * Real mounts for tests: guestmount runs as its own daemon process (as a user runs it), and
 * every mount is undone in `finally` (guestunmount, then a lazy fusermount and SIGKILL of the
 * daemon if that failed) so no test leaves a mount or a daemon behind.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { run, runStatus } from '../fixtures/run.js';
import { BIN } from '../e2e/tools.js';

const execFileP = promisify(execFile);
export const guestmountJs = join(BIN, 'guestmount.js');
/** guestmount as installed: the shell launcher in front of guestmount.js. */
export const guestmountCmd = join(BIN, 'guestmount');
export const guestunmountJs = join(BIN, 'guestunmount.js');

/** Run guestmount as users do (the installed launcher, forking); resolves with its exit code and stderr. */
export function guestmount(args: string[]) {
  return runStatus(guestmountCmd, args, { env: { ...process.env, GUESTKIT_NODE: process.execPath } });
}

export function guestunmount(args: string[]) {
  return runStatus(process.execPath, [guestunmountJs, ...args]);
}

/** Run a shell script in `cwd` (the mountpoint), throwing with its stderr if it fails. */
export function sh(script: string, cwd: string, timeoutMs = 60_000): Promise<string> {
  return execFileP('bash', ['-euo', 'pipefail', '-c', script], { cwd, timeout: timeoutMs, maxBuffer: 64 << 20 }).then(
    (r) => r.stdout,
    (e: { stderr?: string; message: string }) => {
      throw new Error(`script failed: ${e.stderr || e.message}\n--- script:\n${script}`);
    },
  );
}

/** The pid of the daemon serving `mnt`, from its fsname in mountinfo. */
export async function daemonPidOf(path: string): Promise<number | undefined> {
  const mnt = join(await realpath(dirname(path)), basename(path));
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  for (const line of info.split('\n')) {
    const f = line.split(' ');
    const m = / - fuse\.guestmount guestmount:(\d+) /.exec(line);
    if (f[4] === mnt && m) return Number(m[1]);
  }
  return undefined;
}

/** Free `mnt` whatever state it is in (used in finally). */
export async function forceUnmount(mnt: string): Promise<void> {
  const pid = await daemonPidOf(mnt);
  const r = await guestunmount(['-q', '--no-retry', mnt]);
  if (r.code === 0 || r.code === 3) return;
  await run('fusermount', ['-u', '-z', mnt]).catch(() => undefined);
  if (pid) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** A fresh mountpoint directory; `use` runs with it, and the directory is removed after. */
export async function withMountpoint<T>(name: string, use: (mnt: string, dir: string) => Promise<T>): Promise<T> {
  // Under /tmp: GLib will not trash on mounts below a hidden directory such as .fixtures.
  const dir = await mkdtemp(join(tmpdir(), `guestmount-${name}-`));
  const mnt = join(dir, 'mnt');
  await mkdir(mnt);
  try {
    return await use(mnt, dir);
  } finally {
    await forceUnmount(mnt);
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** Mount, run `use`, and always unmount; asserts guestmount succeeded. */
export async function withMount<T>(name: string, args: string[], use: (mnt: string, dir: string) => Promise<T>): Promise<T> {
  return withMountpoint(name, async (mnt, dir) => {
    const r = await guestmount([...args, mnt]);
    if (r.code !== 0) throw new Error(`guestmount ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return use(mnt, dir);
  });
}

export async function sha256(path: string): Promise<string> {
  return (await run('sha256sum', [path])).split(' ')[0]!;
}
