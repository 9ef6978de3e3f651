/**
 * Crash consistency at length: for each writer, hundreds of runs of the crash harness
 * (test/crash/harness.ts: a guestmount daemon SIGKILLed at a seeded point of a write
 * workload, then the image's own check and every fsync'd write verified), reporting the kill
 * points survived per writer, what the runs noted (journal replays, FAT dirty bits, qcow2
 * leaks) and the seed of every failure, which `crashRun` repeats exactly.
 *
 *   node dist/bench/crash.js [RUNS=200] [WRITERS=ext4,fat,ntfs,qcow2] [FIRST_SEED=1000]
 */
import { scratch } from '../test/fixtures/cache.js';
import { crashImage, crashRun, type Writer } from '../test/crash/harness.js';

const runs = Number(process.argv[2] ?? 200);
const writers = (process.argv[3] ?? 'ext4,fat,ntfs,qcow2').split(',') as Writer[];
const firstSeed = Number(process.argv[4] ?? 1000);

for (const writer of writers) {
  const base = await crashImage(writer);
  const dir = await scratch(`bench-crash-${writer}`);
  const notes = new Map<string, number>();
  const failures: string[] = [];
  let acks = 0;
  const start = Date.now();
  for (let seed = firstSeed; seed < firstSeed + runs; seed++) {
    const r = await crashRun(writer, base, seed, dir).catch((e: Error) => ({ seed, acks: 0, inFlight: '?', problems: [`harness: ${e.message}`], notes: [] }));
    acks += r.acks;
    for (const n of r.notes) notes.set(n.replace(/\d+/g, 'N'), (notes.get(n.replace(/\d+/g, 'N')) ?? 0) + 1);
    if (r.problems.length) failures.push(`seed ${seed} (${r.acks} acknowledged, in flight ${r.inFlight}):\n  ${r.problems.join('\n  ')}`);
    process.stderr.write(`\r${writer}: ${seed - firstSeed + 1}/${runs}, ${failures.length} failed`);
  }
  process.stderr.write('\n');
  const noted = [...notes].map(([n, c]) => `${n} ×${c}`).join(', ') || 'none';
  console.log(`${writer}: ${runs - failures.length}/${runs} kill points survived, ${acks} fsync-acknowledged operations checked, ${((Date.now() - start) / 1000 / runs).toFixed(1)} s/run; notes: ${noted}`);
  for (const f of failures) console.log(`  ${f}`);
}
