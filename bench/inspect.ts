/**
 * virt-inspector benchmark: wall time of the whole process (Node's start-up included) on the
 * Linux and Windows test guests, against `node -e 0` in the same run (libguestfs's
 * virt-inspector is measured too when it is installed; its appliance takes ~35 s here), and
 * `--each` over 200 qcow2 overlays of those guests, in guests per second.
 * Targets: one inspection under 150 ms; --each at least 50 guests/s on two cores.
 * Run: node dist/bench/inspect.js
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { linuxImage } from '../test/inspect/linux-image.js';
import { SPECS, windowsImage } from '../test/inspect/windows-image.js';
import { FIXTURE_DIR } from '../test/fixtures/cache.js';
import { run, runStatus } from '../test/fixtures/run.js';
import { bestPairs, measureCommand } from './measure.js';

// The shipped bundle (package.json's bin), as users run it.
const INSPECTOR = fileURLToPath(new URL('../bin/virt-inspector.js', import.meta.url));
const RUNS = 7;
const OVERLAYS = 200;

const ms = (s: number) => `${(s * 1000).toFixed(0)} ms`;

async function single(label: string, args: string[]): Promise<void> {
  const [ours, node] = await bestPairs(RUNS,
    () => measureCommand(`guestkit virt-inspector ${label}`, 0, process.execPath, [INSPECTOR, ...args]),
    () => measureCommand('node -e 0', 0, process.execPath, ['-e', '0']));
  console.log(`${label.padEnd(28)} ${ms(ours.seconds).padStart(7)} wall (best of ${RUNS}), ${ms(ours.cpuSeconds)} CPU;`
    + ` node start-up alone ${ms(node.seconds)}: inspection adds ${ms(ours.seconds - node.seconds)}`);
  if ((await runStatus('sh', ['-c', 'command -v virt-inspector'])).code === 0) {
    const ref = await measureCommand('libguestfs virt-inspector', 0, 'virt-inspector', args);
    console.log(`${'  libguestfs virt-inspector'.padEnd(28)} ${ms(ref.seconds).padStart(7)} wall: ratio ${(ref.seconds / ours.seconds).toFixed(1)}×`);
  }
}

const linux = join(await linuxImage(), 'disk.img');
const win = join(await windowsImage(SPECS.mbr), 'disk.img');
console.log('virt-inspector, whole process (target < 150 ms):');
await single('Linux (GPT+LVM, 40 debs)', ['--format=raw', '-a', linux]);
await single('Windows (MBR, 3 NTFS)', ['--format=raw', '-a', win]);

const dir = join(FIXTURE_DIR, 'scratch', `inspect-bench-${process.pid}`);
await mkdir(dir, { recursive: true });
try {
  const overlays: string[] = [];
  for (let i = 0; i < OVERLAYS; i++) {
    const o = join(dir, `guest-${i}.qcow2`);
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', i % 2 ? win : linux, '-F', 'raw', o]);
    overlays.push(o);
  }
  for (const apps of [true, false]) {
    const args = [INSPECTOR, '--each', '--format=qcow2', ...(apps ? [] : ['--no-applications']), ...overlays];
    const m = await measureCommand('--each', 0, process.execPath, args);
    const lines = (await run(process.execPath, args)).trim().split('\n').filter((l) => l.includes('"hostname"'));
    if (lines.length !== OVERLAYS) throw new Error(`--each found an OS in ${lines.length} of ${OVERLAYS} overlays`);
    console.log(`--each over ${OVERLAYS} qcow2 overlays${apps ? '' : ' --no-applications'}: ${(OVERLAYS / m.seconds).toFixed(0)} guests/s`
      + ` (${m.seconds.toFixed(2)} s wall, ${m.cpuSeconds.toFixed(2)} s CPU; target ≥ 50/s)`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
