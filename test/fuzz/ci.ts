/**
 * The short fixed-seed pass CI runs per target: every case must end in our error or a
 * clean read (no other exception, no hang, no allocation past the cap, no write), the clean
 * inputs must be read through, and the damage must both pass and fail (or it tests nothing).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fuzz } from './runner.js';

export const CI_SEED = 20261202;

export function fuzzTest(target: string, count: number): void {
  test(`fuzz ${target}: ${count} damaged inputs end in our error or a clean read`, { timeout: 300_000 }, async () => {
    const r = await fuzz(target, { seed: CI_SEED, count, caseMs: 30_000 });
    const findings = r.findings.map((f) => `${f.kind} case ${f.case} (${f.input}): ${f.ops.join('; ')}\n${f.detail}`);
    assert.deepEqual(findings, [], `findings of ${target} (replay with bench/fuzz.ts --seed ${CI_SEED})`);
    assert.equal(r.executions, count);
    for (const [input, reached] of Object.entries(r.clean)) assert.ok(reached > 0, `the clean ${input} is read through`);
    assert.ok(r.refused > 0, `some damage is refused: ${r.refused} of ${count}`);
    assert.ok(r.ok > 0, `some damage reads clean: ${r.ok} of ${count}`);
  });
}
