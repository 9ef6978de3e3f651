/**
 * Fuzz every parser for a while: `node dist/bench/fuzz.js [--seconds N | --count N]
 * [--seed S] [--jobs J] [target…]`. The seconds are shared out over the targets (60 s by
 * default: a few seconds each, of which an image target spends ~1–3 s starting; give more
 * for a real run). `--jobs` workers per target, one per core by default. Prints executions
 * per parser and every finding with the case that replays it (same seed, same case number).
 * See test/fuzz/ for the targets and invariants.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { fuzz } from '../test/fuzz/runner.js';
import { TARGETS } from '../test/fuzz/targets.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seconds: { type: 'string', default: '60' },
    count: { type: 'string' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    'case-ms': { type: 'string', default: '20000' },
    jobs: { type: 'string', default: String(availableParallelism()) },
  },
});
const names = positionals.length ? positionals : TARGETS.map((t) => t.name);
const seed = Number(values.seed);
const perTarget = Number(values.seconds) / names.length;
console.log(`seed ${seed}, ${values.count ? `${values.count} cases` : `${perTarget.toFixed(0)} s`} per target, ${values.jobs} jobs`);
let findings = 0;
for (const name of names) {
  const r = await fuzz(name, {
    seed,
    ...(values.count ? { count: Number(values.count) } : { seconds: perTarget }),
    caseMs: Number(values['case-ms']),
    jobs: Number(values.jobs),
  });
  findings += r.findings.length;
  console.log(
    `${name.padEnd(16)} ${String(r.executions).padStart(7)} executions  ${(r.executions / r.seconds).toFixed(1).padStart(7)}/s  ` +
      `ok ${r.ok}  refused ${r.refused}  findings ${r.findings.length}  peak ${r.peakMb.toFixed(0)} MiB`,
  );
  for (const f of r.findings) console.log(`  ${f.kind} case ${f.case} (${f.input}): ${f.ops.join('; ')}\n    ${f.detail.split('\n').slice(0, 6).join('\n    ')}`);
}
process.exitCode = findings > 0 ? 1 : 0;
