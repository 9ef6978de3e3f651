/**
 * The hive writer's crash consistency at length: virt-v2v SIGKILLed RUNS times at seeded
 * points of a Windows conversion (test/crash/v2v-kills.ts); every kill must leave the source
 * image unchanged.
 *
 *   node dist/bench/crash-v2v.js [RUNS=200] [SEED=1]
 */
import { join } from 'node:path';
import { prng } from '../disk/filters/prng.js';
import { scratch } from '../test/fixtures/cache.js';
import { v2vKiller } from '../test/crash/v2v-kills.js';

const runs = Number(process.argv[2] ?? 200);
const rnd = prng(Number(process.argv[3] ?? 1));
const work = await scratch('bench-crash-v2v');
const killer = await v2vKiller(work);
const start = Date.now();
let killed = 0;
for (let k = 0; k < runs; k++) {
  if (await killer.kill(join(work, `run-${k}`), rnd)) killed++;
  process.stderr.write(`\rhive (virt-v2v): ${k + 1}/${runs}`);
}
process.stderr.write('\n');
console.log(`hive (virt-v2v): ${runs}/${runs} runs left the source unchanged, ${killed} of them killed mid-conversion (the rest finished first), ${((Date.now() - start) / 1000 / runs).toFixed(2)} s/run`);
