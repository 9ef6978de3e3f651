/**
 * Fuzz every parser for a while: `node dist/bench/fuzz.js [--seconds N | --count N]
 * [--seed S] [target…]`. Prints executions per parser and every finding with the case that
 * replays it (same seed, same case number). See test/fuzz/ for the targets and invariants.
 */
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
  },
});
const names = positionals.length ? positionals : TARGETS.map((t) => t.name);
const seed = Number(values.seed);
const perTarget = Number(values.seconds) / names.length;
console.log(`seed ${seed}, ${values.count ? `${values.count} cases` : `${perTarget.toFixed(0)} s`} per target`);
let findings = 0;
for (const name of names) {
  const r = await fuzz(name, {
    seed,
    ...(values.count ? { count: Number(values.count) } : { seconds: perTarget }),
    caseMs: Number(values['case-ms']),
  });
  findings += r.findings.length;
  console.log(
    `${name.padEnd(16)} ${String(r.executions).padStart(7)} executions  ${(r.executions / r.seconds).toFixed(1).padStart(7)}/s  ` +
      `ok ${r.ok}  refused ${r.refused}  findings ${r.findings.length}  peak ${r.peakMb.toFixed(0)} MiB`,
  );
  for (const f of r.findings) console.log(`  ${f.kind} case ${f.case} (${f.input}): ${f.ops.join('; ')}\n    ${f.detail.split('\n').slice(0, 6).join('\n    ')}`);
}
process.exitCode = findings > 0 ? 1 : 0;
