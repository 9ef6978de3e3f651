/**
 * virt-v2v on a Debian-like guest holding 1 GiB of incompressible data, `-i disk … -o local`,
 * to qcow2 and to raw, against `qemu-img convert` of the same disk to the same format in the
 * same run (and libguestfs's virt-v2v where it is installed). Prints the whole conversion's
 * wall time and the copy's MB/s (from the --machine-readable timestamps of "Copying disk 1/1"
 * and "Creating output metadata"), and the ratio to qemu-img. Targets: copy ≥ 0.9× qemu-img,
 * conversion under 5 s. Run after `npm run build`: `node dist/bench/v2v.js`.
 *
 * Flushing, made equal: our copy ends with one fdatasync of the target (the data is on disk
 * when virt-v2v says it is done). `qemu-img convert` opens its output with cache=unsafe by
 * default, which never flushes: it ends with the data still in the page cache, and writing
 * that back costs as much as the copy. So the reference is `qemu-img convert` followed by
 * `sync -d` of its output (one fdatasync), timed together.
 */
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { linuxGuest } from '../test/v2v/images/linux-guest.js';
import { bestPairs, measureCommand, printComparison, runCommand, type Measurement } from './measure.js';

const VIRT_V2V = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'virt-v2v.js');
const RUNS = 3;

const { disk } = await linuxGuest({ dataMiB: 1024 });
const size = statSync(disk).size;
const out = await mkdtemp(join(tmpdir(), 'bench-v2v.'));
// Warm the page cache for both alike.
await runCommand('sh', ['-c', 'cat "$1" >/dev/null', 'sh', disk]);
console.log(`guest disk: ${(size / 2 ** 20).toFixed(0)} MiB raw with 1 GiB of data; best of ${RUNS}`);

for (const format of ['qcow2', 'raw'] as const) {
  let copySeconds = Infinity;
  const ours = async (): Promise<Measurement> => {
    const start = process.hrtime.bigint();
    const stdout = await runCommand(process.execPath, [VIRT_V2V, '--machine-readable', '-i', 'disk', disk, '-o', 'local', '-os', out, '-of', format]);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const at = (re: RegExp) => {
      const line = stdout.split('\n').find((l) => l.startsWith('{') && re.test((JSON.parse(l) as { message: string }).message));
      if (!line) throw new Error(`no message ${re} in virt-v2v's output`);
      return Date.parse((JSON.parse(line) as { timestamp: string }).timestamp);
    };
    copySeconds = Math.min(copySeconds, (at(/Creating output metadata$/) - at(/Copying disk 1\/1$/)) / 1000);
    // CPU time of the child is not separated here: report wall clock for the whole run.
    return { label: 'guestkit virt-v2v (whole conversion)', bytes: size, seconds, cpuSeconds: seconds };
  };
  const ref = join(out, `ref.${format}`);
  const reference = () =>
    measureCommand(`qemu-img convert -O ${format} + sync`, size, 'sh', ['-c', 'qemu-img convert -f raw -O "$1" "$2" "$3" && sync -d "$3"', 'sh', format, disk, ref]);

  const [conv, qemu] = await bestPairs(RUNS, ours, reference);
  console.log(`-of ${format}: whole conversion ${conv.seconds.toFixed(2)} s (target: under 5 s)`);
  printComparison(
    `copy to ${format} (the disk copy alone, flushed) against qemu-img convert (then synced):`,
    { label: 'guestkit virt-v2v copy', bytes: size, seconds: copySeconds, cpuSeconds: copySeconds },
    qemu,
  );
}
console.log('  (the CPU column of the guestkit lines is their wall time: the copy runs inside the command)');

let libguestfs: string | undefined;
try {
  libguestfs = execFileSync('sh', ['-c', 'command -v virt-v2v'], { encoding: 'utf8' }).trim();
} catch {
  console.log("libguestfs's virt-v2v: not installed here");
}
if (libguestfs) {
  const start = process.hrtime.bigint();
  try {
    await runCommand('env', ['LIBGUESTFS_BACKEND_SETTINGS=force_tcg', libguestfs, '-i', 'disk', disk, '-o', 'local', '-os', out, '-on', 'lg', '-of', 'qcow2']);
    console.log(`libguestfs's virt-v2v: ${(Number(process.hrtime.bigint() - start) / 1e9).toFixed(2)} s`);
  } catch (e) {
    console.log(`libguestfs's virt-v2v failed after ${(Number(process.hrtime.bigint() - start) / 1e9).toFixed(2)} s: ${(e as Error).message.split('\n').slice(-3).join(' ')}`);
  }
}
await rm(out, { recursive: true, force: true });
