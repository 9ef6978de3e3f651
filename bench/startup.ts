/**
 * Start-up cost of each command on the demo disk: CPU time (user + system of the child, from
 * getrusage through the shell's `times`) of the shipped bundles in dist/bin, side by side
 * with a bare `node -e ''` and with the unbundled tsc output in dist/cli. The runs are
 * interleaved so that other load falls on all alike; medians over RUNS runs.
 * Target: every command within 50 ms of bare Node. Run: node dist/bench/startup.js [RUNS]
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measureCommand, type Measurement } from './measure.js';

const RUNS = Number(process.argv[2] ?? 21);
const dist = join(dirname(fileURLToPath(import.meta.url)), '..');
const demo = join(dist, '..', 'demo', 'demo.qcow2');

const commands: [string, string[]][] = [
  ['virt-filesystems', ['-a', demo, '--all', '--long']],
  ['virt-ls', ['-a', demo, '-m', '/dev/sda2', '-l', '/etc']],
  ['virt-cat', ['-a', demo, '-m', '/dev/sda2', '/etc/os-release']],
];
const rows: [string, string[]][] = [
  ["node -e ''", ['-e', '']],
  ...commands.map(([cmd, args]): [string, string[]] => [cmd, [join(dist, 'bin', `${cmd}.js`), ...args]]),
  ...commands.map(([cmd, args]): [string, string[]] => [`${cmd} (dist/cli, unbundled)`, [join(dist, 'cli', `${cmd}.js`), ...args]]),
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const runs = rows.map(() => [] as Measurement[]);
for (let r = 0; r < RUNS; r++) {
  for (const [i, [label, args]] of rows.entries()) runs[i]!.push(await measureCommand(label, 0, process.execPath, args));
}
const bare = median(runs[0]!.map((m) => m.cpuSeconds));
console.log(`Start-up on demo/demo.qcow2, median of ${RUNS} runs (CPU = user + system of the child):`);
for (const [i, [label]] of rows.entries()) {
  const cpu = median(runs[i]!.map((m) => m.cpuSeconds));
  const wall = median(runs[i]!.map((m) => m.seconds));
  const extra = i === 0 ? '' : `  ${((cpu - bare) * 1000).toFixed(0).padStart(4)} ms over bare node`;
  console.log(`  ${label.padEnd(36)} CPU ${(cpu * 1000).toFixed(0).padStart(5)} ms  wall ${(wall * 1000).toFixed(0).padStart(5)} ms${extra}`);
}
