#!/usr/bin/env node
/**
 * `npm start`: mount the built-in demo disks read-only under ./mnt as inspection finds them
 * (mnt/windows: a Windows-like disk's C: and D:, demo/windows.qcow2; mnt/linux: a Linux root
 * with its /boot/efi, demo/demo.qcow2; each made by the script beside it with the real tools),
 * list them, and unmount on Ctrl-C. Where this host has no usable
 * /dev/fuse, it says so and lists the disks with virt-filesystems, virt-ls and virt-cat.
 */
import { spawnSync } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mountAt } from '../mount/mountinfo.js';

const here = dirname(fileURLToPath(import.meta.url));
const demo = join(here, '..', '..', 'demo');
const windows = join(demo, 'windows.qcow2');
const linux = join(demo, 'demo.qcow2');
const mnt = resolve('mnt');

const tool = (cmd: string, args: string[], show = true) => {
  if (show) process.stdout.write(`\n$ ${cmd} ${args.map((a) => (a.startsWith(demo) ? relative(process.cwd(), a) : a)).join(' ')}\n`);
  return spawnSync(process.execPath, [join(here, `${cmd}.js`), ...args], { stdio: 'inherit' }).status ?? 1;
};

/** Without FUSE: what the disks hold, through the tools that need no mount. */
function listOnly(): number {
  const steps: [string, string[]][] = [
    ['virt-filesystems', ['-a', windows, '-a', linux, '--all', '--long', '-h']],
    ['virt-ls', ['-a', windows, '-m', '/dev/sda1', '-lR', '/Users']],
    ['virt-cat', ['-a', windows, '-m', '/dev/sda2', '/Data/Reports/q1.txt']],
    ['virt-ls', ['-a', linux, '-m', '/dev/sda2', '-m', '/dev/sda1:/boot/efi', '-lR', '/']],
    ['virt-cat', ['-a', linux, '-m', '/dev/sda2', '/etc/os-release']],
  ];
  return steps.reduce((failed, [cmd, args]) => failed + (tool(cmd, args) ? 1 : 0), 0) ? 1 : 0;
}

async function main(): Promise<number> {
  const fuse = await access('/dev/fuse', constants.R_OK | constants.W_OK).then(() => '', (e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? 'is missing' : 'is not usable by this user'));
  if (fuse) {
    process.stdout.write(`/dev/fuse ${fuse} here, so the demo disks cannot be mounted: listing them instead.\n`);
    return listOnly();
  }
  // Each disk is its own guest, mounted as inspection finds it (-i): drive letters for Windows,
  // the fstab layout for Linux.
  const mounts: [string, string][] = [[windows, join(mnt, 'windows')], [linux, join(mnt, 'linux')]];
  for (const [, at] of mounts) {
    await mkdir(at, { recursive: true });
    if (await mountAt(at)) tool('guestunmount', ['-q', at], false);
  }
  for (const [disk, at] of mounts) {
    if (tool('guestmount', ['-a', disk, '-i', '--ro', at])) {
      process.stdout.write('guestmount failed: listing the disks instead.\n');
      for (const [, m] of mounts) tool('guestunmount', ['-q', m], false);
      return listOnly();
    }
  }
  const unmountAll = () => mounts.reduce((failed, [, at]) => failed + tool('guestunmount', [at]), 0) ? 1 : 0;
  spawnSync('ls', ['-la', 'mnt/windows', 'mnt/windows/C', 'mnt/windows/D', 'mnt/linux', 'mnt/linux/boot/efi'], { stdio: 'inherit', cwd: dirname(mnt) });
  process.stdout.write(`
The demo disks are mounted read-only at ${mnt}: the Windows drive letters under windows/,
the Linux root (with /boot/efi from its fstab) under linux/.
Browse them from another terminal, e.g.
  cat ${mnt}/windows/C/Users/Public/Desktop/readme.txt
  cat ${mnt}/linux/etc/os-release
Press Ctrl-C here to unmount (or run: guestunmount ${mnt}/windows; guestunmount ${mnt}/linux).
`);
  if (!process.stdin.isTTY) {
    process.stdout.write('(not on a terminal: unmounting now)\n');
    return unmountAll();
  }
  return new Promise<number>((done) => {
    const stop = () => done(unmountAll());
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    // Unmounted from elsewhere: nothing left to wait for.
    const timer = setInterval(() => {
      void Promise.all(mounts.map(([, at]) => mountAt(at))).then((m) => {
        if (m.every((x) => !x)) {
          clearInterval(timer);
          done(0);
        }
      });
    }, 500);
  });
}

main().then((code) => process.exit(code));
