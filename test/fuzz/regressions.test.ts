/** Cases bench/fuzz.ts found, replayed alone (same target, seed and case number). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fuzz } from './runner.js';

const FOUND: [string, number, number, string][] = [
  // NTFS statfs sized a buffer from $MFT's $BITMAP data size (68 GB): RangeError from Buffer.alloc.
  ['mbr', 4242, 28, 'flip bit 6 at 53481408; pointer u32le 16 (unit 65536) at 1065340'],
];

for (const [target, seed, at, what] of FOUND) {
  test(`fuzz regression: ${target} seed ${seed} case ${at} (${what}) ends in our error`, { timeout: 120_000 }, async () => {
    const r = await fuzz(target, { seed, from: at, count: 1, caseMs: 60_000 });
    assert.deepEqual(r.findings.map((f) => `${f.kind}: ${f.detail}`), []);
    assert.equal(r.executions, 1);
    assert.equal(r.refused, 1);
  });
}
