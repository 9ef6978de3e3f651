/** A short fixed-seed pass of the crash harness for one writer (bench/crash.ts runs hundreds). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scratch } from '../fixtures/cache.js';
import { crashImage, crashRun, type Writer } from './harness.js';

/** Kills per writer in the test pass. */
export const KILLS = 6;

export function crashTest(writer: Writer, firstSeed = 1): void {
  test(`crash consistency (${writer}): ${KILLS} SIGKILLs of the guestmount daemon mid-workload, the image checks clean and every fsync'd write is there`, { timeout: 300_000 }, async () => {
    const base = await crashImage(writer);
    const dir = await scratch(`crash-${writer}`);
    let acks = 0;
    for (let seed = firstSeed; seed < firstSeed + KILLS; seed++) {
      const r = await crashRun(writer, base, seed, dir);
      assert.deepEqual(r.problems, [], `seed ${seed}, ${r.acks} acknowledged, in flight ${r.inFlight}:\n${r.problems.join('\n')}`);
      acks += r.acks;
    }
    assert.ok(acks >= KILLS, `the workload got ${acks} operations acknowledged over ${KILLS} runs`);
  });
}
