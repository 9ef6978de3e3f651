#!/usr/bin/env node
/**
 * guestunmount: unmount a guestmount mount, retrying while it is busy, and wait until the
 * daemon has flushed and exited, so every write is on the image when this returns.
 * Exit codes as libguestfs's: 0 unmounted, 1 error, 2 still busy after the retries, 3 not mounted.
 */
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { daemonPid, mountAt } from '../mount/mountinfo.js';

const USAGE = 'Usage: guestunmount [--fd=N] [-q] [--no-retry] [--retry=N] [-v] MOUNTPOINT\n';
const DEFAULT_RETRIES = 5;

class Exit extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

async function main(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: {
      fd: { type: 'string' }, quiet: { type: 'boolean', short: 'q' }, 'no-retry': { type: 'boolean' },
      retry: { type: 'string' }, verbose: { type: 'boolean', short: 'v' }, help: { type: 'boolean' },
    },
  });
  if (v.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new Exit(1, `give exactly one mountpoint\n${USAGE}`);
  const retries = v['no-retry'] ? 0 : v.retry === undefined ? DEFAULT_RETRIES : Number(v.retry);
  if (!Number.isInteger(retries) || retries < 0) throw new Exit(1, `--retry=${v.retry}: not a count`);
  const log = v.verbose ? (s: string) => process.stderr.write(`guestunmount: ${s}\n`) : () => undefined;

  // --fd: wait until the other end of this pipe closes (the caller exited), then unmount.
  if (v.fd !== undefined) {
    const fd = Number(v.fd);
    if (!Number.isInteger(fd) || fd < 0) throw new Exit(1, `--fd=${v.fd}: not a file descriptor number`);
    await new Promise<void>((done) => createReadStream('', { fd }).on('data', () => undefined).on('close', done).on('error', () => done()));
    log(`fd ${fd} closed`);
  }

  // mountinfo holds real paths; only the parent is resolved, since a dead FUSE mount
  // answers ENOTCONN to anything asked of it.
  const given = resolve(positionals[0]!);
  const mnt = join(await realpath(dirname(given)).catch(() => dirname(given)), basename(given));
  const m = await mountAt(mnt);
  if (!m) {
    if (!v.quiet) process.stderr.write(`guestunmount: ${mnt} is not mounted\n`);
    return 3;
  }
  if (!m.fstype.startsWith('fuse')) throw new Exit(1, `${mnt} is not a FUSE mount (it is ${m.fstype})`);
  const pid = daemonPid(m);

  for (let attempt = 0; ; attempt++) {
    const err = await fusermount(mnt);
    if (err === undefined) break;
    if (!/busy/i.test(err)) throw new Exit(1, `fusermount: ${err.trim()}`);
    if (attempt >= retries) {
      process.stderr.write(`guestunmount: ${mnt} is still busy after ${retries} retries: close the files open on it (see fuser -vm ${mnt})\n`);
      return 2;
    }
    const wait = 1000 * 2 ** attempt;
    log(`busy, retrying in ${wait / 1000} s`);
    await new Promise((r) => setTimeout(r, wait));
  }
  if (pid !== undefined) {
    log(`unmounted; waiting for daemon ${pid} to flush and exit`);
    while (alive(pid)) await new Promise((r) => setTimeout(r, 20));
  }
  log('done');
  return 0;
}

/** Run `fusermount -u`; undefined on success, else its error output. */
function fusermount(mnt: string): Promise<string | undefined> {
  return new Promise((done) => {
    execFile('fusermount', ['-u', mnt], (err, _out, stderr) => done(err ? stderr || err.message : undefined));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    process.stderr.write(`guestunmount: ${(e as Error).message}\n`);
    process.exitCode = e instanceof Exit ? e.code : 1;
  },
);
