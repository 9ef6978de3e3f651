#!/usr/bin/env node
/**
 * `npm start`: the main job on the built-in demo disk (demo/demo.qcow2, made by
 * demo/build.sh with mkfs/sgdisk/ntfs-3g/qemu-img): list what is inside, then browse it.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const disk = join(here, '..', '..', 'demo', 'demo.qcow2');

const steps: [string, string[]][] = [
  ['virt-filesystems', ['-a', disk, '--all', '--long', '-h']],
  ['virt-ls', ['-a', disk, '-m', '/dev/sda2', '-m', '/dev/sda1:/boot/efi', '-lR', '/']],
  ['virt-cat', ['-a', disk, '-m', '/dev/sda2', '/etc/os-release']],
  ['virt-cat', ['-a', disk, '-m', '/dev/sda3', '/Users/Public/Documents/readme.txt']],
];

let failed = 0;
for (const [cmd, args] of steps) {
  const shown = args.map((a) => (a === disk ? 'demo/demo.qcow2' : a)).join(' ');
  process.stdout.write(`\n$ ${cmd} ${shown}\n`);
  const r = spawnSync(process.execPath, [join(here, `${cmd}.js`), ...args], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
