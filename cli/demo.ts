#!/usr/bin/env node
/**
 * `npm start`: mount the built-in demo disks read-only at ./mnt (a Windows-like disk with C:
 * and D:, demo/windows.qcow2, and a Linux one, demo/demo.qcow2; each made by the script beside
 * it with the real tools), list them, and unmount on Ctrl-C. Where this host has no usable
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
  await mkdir(mnt, { recursive: true });
  if (await mountAt(mnt)) tool('guestunmount', ['-q', mnt], false);
  const specs = ['/dev/sda1:/windows/C', '/dev/sda2:/windows/D', '/dev/sdb2:/linux', '/dev/sdb1:/linux/boot/efi'];
  if (tool('guestmount', ['-a', windows, '-a', linux, '--ro', ...specs.flatMap((s) => ['-m', s]), mnt])) {
    process.stdout.write('guestmount failed: listing the disks instead.\n');
    return listOnly();
  }
  spawnSync('ls', ['-la', 'mnt', 'mnt/windows/C', 'mnt/windows/D', 'mnt/linux'], { stdio: 'inherit', cwd: dirname(mnt) });
  process.stdout.write(`
The demo disks are mounted read-only at ${mnt}: drive letters under windows/, the Linux root under linux/.
Browse them from another terminal, e.g.
  cat ${mnt}/windows/C/Users/Public/Desktop/readme.txt
  cat ${mnt}/linux/etc/os-release
Press Ctrl-C here to unmount (or run: guestunmount ${mnt}).
`);
  if (!process.stdin.isTTY) {
    process.stdout.write('(not on a terminal: unmounting now)\n');
    return tool('guestunmount', [mnt]);
  }
  return new Promise<number>((done) => {
    const stop = () => done(tool('guestunmount', [mnt]));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    // Unmounted from elsewhere: nothing left to wait for.
    const timer = setInterval(() => {
      void mountAt(mnt).then((m) => {
        if (!m) {
          clearInterval(timer);
          done(0);
        }
      });
    }, 500);
  });
}

main().then((code) => process.exit(code));
