/** Directory-index hashes against debugfs's `dx_hash` (e2fsprogs' own ext2fs_dirhash), for names fast-check makes. */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { dirhash, HASH } from '../../../fs/ext4/dirhash.js';
import { scratch } from '../../fixtures/cache.js';
import { run } from '../../fixtures/run.js';

/** By number: debugfs knows only the signed versions by name, and reads an unknown name as 0 (legacy). */
const VERSIONS = Object.values(HASH);

/**
 * Bytes debugfs's command line passes through as one argument: no blanks, quotes, backslashes or
 * '#', no leading '-' (an option); high bytes too, where signedness matters.
 */
const nameByte = fc.oneof(
  fc.integer({ min: 0x21, max: 0x7e }).filter((c) => !'"\'\\#'.includes(String.fromCharCode(c))),
  fc.integer({ min: 0x80, max: 0xfe }),
);

test('ext4 dirhash: every hash version and seed matches debugfs dx_hash', async () => {
  const names = fc.sample(fc.array(nameByte, { minLength: 1, maxLength: 120 }).filter((a) => a[0] !== 0x2d), { numRuns: 60, seed: 17 }).map((a) => Buffer.from(a));
  const seeds = [Buffer.alloc(16), ...fc.sample(fc.uint8Array({ minLength: 16, maxLength: 16 }), { numRuns: 2, seed: 18 }).map((a) => Buffer.from(a))];
  const uuid = (b: Buffer) => b.toString('hex').replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-');
  const cases: { name: Buffer; version: number; seed: Buffer }[] = [];
  for (const name of names) for (const version of VERSIONS) for (const seed of seeds) cases.push({ name, version, seed });
  const file = join(await scratch('dirhash'), 'cmds');
  await writeFile(file, Buffer.concat(cases.map((c) => Buffer.concat([Buffer.from(`dx_hash -h ${c.version} -s ${uuid(c.seed)} `), c.name, Buffer.from('\n')]))));
  const out = (await run('debugfs', ['-f', file])).split('\n').filter((l) => l.startsWith('Hash of '));
  assert.equal(out.length, cases.length);
  for (const [i, c] of cases.entries()) {
    const m = / is 0x([0-9a-f]+) \(minor 0x([0-9a-f]+)\)$/.exec(out[i]!);
    assert.ok(m, out[i]);
    const seed = [0, 4, 8, 12].map((o) => c.seed.readUInt32LE(o));
    const ours = dirhash(c.version, c.name, seed);
    assert.deepEqual([ours.hash, ours.minor], [parseInt(m[1]!, 16), parseInt(m[2]!, 16)], `version ${c.version} ${c.name.toString('hex')} seed ${uuid(c.seed)}`);
  }
});
