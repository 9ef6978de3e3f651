/**
 * The read path as a user meets it: the built `virt-cat` (a child process: start-up, probing
 * and output included) printing a 1 GiB file from an ext4 image, raw and qcow2, against `cat`
 * of the same file from a warm read-only loop mount of the raw image (the host kernel's page
 * cache: the physical limit), a bare Node read loop over that mount (the most any Node program
 * gets here) and `qemu-img convert` of the qcow2 to a null target, in one run.
 * Output goes to /dev/null and, separately, through a pipe (`| cat >/dev/null`): a pipe is how
 * a user consumes it, and makes the writer's chunk size matter.
 * Needs root (losetup, mount). Run: node dist/bench/cli-read.js
 */
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixture } from '../test/fixtures/cache.js';
import { mbPerCpuSecond, mbPerSecond, runCommand, type Measurement } from './measure.js';

const GiB = 1 << 30;
const RUNS = 5;
/**
 * The ceiling for any Node program: the same file read from the loop mount with FileHandle.read,
 * four 4 MiB reads in flight into buffers reused once stdout has taken them, and written to
 * stdout, as virt-cat does.
 */
const NODE_CAT = `const fh = await (await import('node:fs/promises')).open(process.argv[1]);
const size = (await fh.stat()).size, C = 4 << 20, q = [], spare = [];
let next = 0;
const issue = () => { for (; q.length < 4 && next < size; next += C) { const b = spare.pop() ?? Buffer.allocUnsafe(C); q.push(fh.read(b, 0, Math.min(C, size - next), next)); } };
issue();
while (q.length) { const { buffer, bytesRead } = await q.shift(); issue(); if (!process.stdout.write(buffer.subarray(0, bytesRead), () => spare.push(buffer))) await new Promise((r) => process.stdout.once('drain', r)); }`;
const VIRT_CAT = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'virt-cat.js');

const images = await fixture('cli-read-1g', 'v1 mkfs.ext4 -d, 1 GiB file big, qemu-img convert -O qcow2', async (dir) => {
  await runCommand('mkdir', ['-p', join(dir, 'src')]);
  const fh = await open(join(dir, 'src', 'big'), 'w');
  const chunk = Buffer.allocUnsafe(8 << 20);
  for (let i = 0; i < chunk.length; i += 4) chunk.writeUInt32LE((i * 2654435761) >>> 0, i);
  for (let off = 0; off < GiB; off += chunk.length) {
    chunk.writeUInt32LE(off / chunk.length, 0); // no two chunks alike
    await fh.write(chunk, 0, chunk.length, off);
  }
  await fh.close();
  await runCommand('truncate', ['-s', '1200M', join(dir, 'fs.img')]);
  await runCommand('mkfs.ext4', ['-q', '-F', '-d', join(dir, 'src'), join(dir, 'fs.img')]);
  await runCommand('rm', ['-rf', join(dir, 'src')]);
  await runCommand('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', join(dir, 'fs.img'), join(dir, 'fs.qcow2')]);
});
const raw = join(images, 'fs.img');
const qcow2 = join(images, 'fs.qcow2');

/**
 * Run a shell pipeline `cmd` with the file as "$1"...; wall time of the whole pipeline, CPU of
 * the first command alone (from /usr/bin/time), so a consuming `cat` is not counted.
 */
async function timed(label: string, cmd: string, args: string[], sink: string): Promise<Measurement> {
  const times = join(work, `${label.replace(/\W+/g, '-')}.time`);
  const start = process.hrtime.bigint();
  await runCommand('bash', ['-c', `/usr/bin/time -f '%U %S' -o "$0" "$@" ${sink}`, times, cmd, ...args]);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const [user, sys] = (await readFile(times, 'utf8')).trim().split(/\s+/).map(Number);
  return { label, bytes: GiB, seconds, cpuSeconds: user! + sys! };
}

function best(ms: Measurement[]): Measurement {
  return ms.reduce((a, b) => (a.seconds <= b.seconds ? a : b));
}

const work = await mkdtemp(join(tmpdir(), 'cli-read-'));
const mnt = join(work, 'mnt');
await runCommand('mkdir', [mnt]);
const loop = (await runCommand('losetup', ['-r', '-f', '--show', raw])).trim();
try {
  await runCommand('mount', ['-o', 'ro', loop, mnt]);
  try {
    const commands: [string, string, string[]][] = [
      ['cat (warm loop mount)', 'cat', [join(mnt, 'big')]],
      ['node read loop (loop mount)', 'node', ['--input-type=module', '-e', NODE_CAT, join(mnt, 'big')]],
      ['virt-cat raw', 'node', [VIRT_CAT, '-a', raw, '/big']],
      ['virt-cat qcow2', 'node', [VIRT_CAT, '--format=qcow2', '-a', qcow2, '/big']],
      ['qemu-img convert qcow2 → null', 'qemu-img', ['convert', '-n', '-f', 'qcow2', '--target-image-opts', qcow2, `driver=null-co,size=${1200 << 20}`]],
    ];
    for (const [sinkName, sink] of [
      ['> /dev/null', '>/dev/null'],
      ['| cat > /dev/null', '| cat >/dev/null'],
    ] as const) {
      const runs = commands.map(() => [] as Measurement[]);
      // Warm the page cache for both images, then alternate so other load falls on all alike.
      for (const [label, cmd, args] of commands) await timed(label, cmd, args, sink);
      for (let r = 0; r < RUNS; r++) {
        for (const [i, [label, cmd, args]] of commands.entries()) runs[i]!.push(await timed(label, cmd, args, sink));
      }
      const results = runs.map(best);
      const ref = results[0]!;
      console.log(`1 GiB file, output ${sinkName} (best of ${RUNS}; qemu-img reads the whole 1200 MiB image, writes nothing):`);
      for (const m of results) {
        console.log(
          `  ${m.label.padEnd(32)} ${mbPerSecond(m).toFixed(0).padStart(6)} MB/s (${m.seconds.toFixed(2)} s)` +
            `  ${m.cpuSeconds.toFixed(2).padStart(5)} CPU-s  ${(mbPerSecond(m) / mbPerSecond(ref)).toFixed(2)}x cat wall, ${(mbPerCpuSecond(m) / mbPerCpuSecond(ref)).toFixed(2)}x cat per CPU-s`,
        );
      }
    }
  } finally {
    await runCommand('umount', [mnt]);
  }
} finally {
  await runCommand('losetup', ['-d', loop]);
  await rm(work, { recursive: true, force: true });
}
