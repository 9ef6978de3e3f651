/**
 * guestmount benchmark, on the ext4 image bench/ext4.ts uses (10,000 files in /dir, a 1 GiB
 * /big): time from the command's start until the mount is ready, `find | wc -l` over the
 * 10,000 files, and a 1 GiB `dd bs=1M` read. References in the same run: a host-kernel
 * loop mount of the same image (`losetup -r`, `mount -o ro`: the physical limit), and a
 * trivial fuse-native filesystem serving 1 GiB from memory (the FUSE ceiling).
 * Targets (issue 10): ready < 150 ms; find < 200 ms; 1 GiB at >= 600 MB/s.
 * Run as root after `npm run build`: node dist/bench/mount.js. Numbers swing with load.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIG, FILES, image } from './ext4-image.js';
import { runCommand } from './measure.js';

const here = dirname(fileURLToPath(import.meta.url));
const node = process.execPath;
const RUNS = 5;

const time = async (fn: () => Promise<unknown>) => {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sh = (script: string) => runCommand('bash', ['-c', script]);

async function findAndCat(label: string, mnt: string, big: string): Promise<void> {
  let count = '';
  const find = await time(async () => (count = (await sh(`find ${mnt}/dir | wc -l`)).trim()));
  const warm = await time(() => sh(`find ${mnt}/dir | wc -l`));
  const cat = await time(() => sh(`dd if=${big} of=/dev/null bs=1M status=none`));
  console.log(`${label.padEnd(28)} find: ${find.toFixed(0).padStart(5)} ms (${count} entries; again ${warm.toFixed(0)} ms)   1 GiB read: ${(BIG / 1e6 / (cat / 1000)).toFixed(0).padStart(5)} MB/s`);
}

const img = await image();
// Every reader below starts with the image in the host's page cache, the loop mount included.
await sh(`cat ${img} > /dev/null`);
const dir = await mkdtemp(join(tmpdir(), 'bench-mount-'));
const mnt = join(dir, 'mnt');
await mkdir(mnt);
// The commands as installed: the esbuild bundles package.json's bin names.
const guestmount = join(here, '..', 'bin', 'guestmount');
const guestunmount = join(here, '..', 'bin', 'guestunmount.js');
console.log(`guestmount on ext4 (${FILES} files, 1 GiB file), median of ${RUNS} where repeated; a shared machine: noisy`);
try {
  const ready: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    ready.push(await time(() => runCommand(guestmount, ['--ro', '-a', img, '-m', '/dev/sda', mnt])));
    if (i < RUNS - 1) await runCommand(node, [guestunmount, mnt]);
  }
  const bare: number[] = [];
  for (let i = 0; i < RUNS; i++) bare.push(await time(() => runCommand(node, ['-e', ''])));
  console.log(`guestmount ready:            ${median(ready).toFixed(0)} ms (bare node -e '': ${median(bare).toFixed(0)} ms; the launcher starts the daemon's node directly)`);
  await findAndCat('guestmount', mnt, join(mnt, 'big'));
  await runCommand(node, [guestunmount, mnt]);

  const loop = (await runCommand('losetup', ['-r', '-f', '--show', img])).trim();
  try {
    await runCommand('mount', ['-o', 'ro', loop, mnt]);
    await findAndCat('kernel loop mount', mnt, join(mnt, 'big'));
  } finally {
    await runCommand('umount', [mnt]).catch(() => undefined);
    await runCommand('losetup', ['-d', loop]);
  }

  const ceiling = spawn(node, [join(here, 'fuse-ceiling.js'), mnt], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((r) => ceiling.stdout!.once('data', r));
  const cat = await time(() => sh(`dd if=${mnt}/big of=/dev/null bs=1M status=none`));
  console.log(`${'fuse-native from memory'.padEnd(28)} 1 GiB read: ${(BIG / 1e6 / (cat / 1000)).toFixed(0).padStart(5)} MB/s (the FUSE ceiling)`);
  ceiling.kill('SIGTERM');
  await new Promise((r) => ceiling.once('exit', r));
} finally {
  await runCommand('fusermount', ['-u', '-z', mnt]).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
}
