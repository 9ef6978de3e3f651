/**
 * The hive writer under SIGKILL (v2v-kills.ts): the source never changes, and a conversion run
 * again afterwards succeeds with a SYSTEM hive hivex reads. `bench/crash-v2v` runs hundreds.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { prng } from '../../disk/filters/prng.js';
import { scratch } from '../fixtures/cache.js';
import { hashFile, run } from '../fixtures/run.js';
import { ntfscat, systemDrive } from '../v2v/convert/windows/helpers.js';
import { v2vKiller } from './v2v-kills.js';

const KILLS = 6;

test(`virt-v2v SIGKILLed ${KILLS} times in a Windows conversion: the source never changes, and a conversion after it succeeds`, { timeout: 600_000 }, async () => {
  const work = await scratch('crash-v2v');
  const killer = await v2vKiller(work);
  const rnd = prng(2026);
  let kills = 0;
  // A run that ends before its kill does not count; a loaded machine may make a few.
  for (let k = 0; kills < KILLS && k < 3 * KILLS; k++) if (await killer.kill(join(work, `killed-${k}`), rnd)) kills++;
  assert.equal(kills, KILLS, `only ${kills} runs were killed before they ended`);

  // Afterwards: a clean conversion whose SYSTEM hive hivex reads, with the boot driver in it.
  const out = join(work, 'after');
  await killer.convert(out);
  const system = join(work, 'SYSTEM');
  await writeFile(system, await ntfscat(await systemDrive(join(out, 'win-sda'), work), '/Windows/System32/config/SYSTEM'));
  const current = (await run('hivexget', [system, 'Select', 'Current'])).trim();
  assert.equal((await run('hivexget', [system, `ControlSet${current.padStart(3, '0')}\\Services\\viostor`, 'Start'])).trim(), '0');
  assert.equal(await hashFile(killer.disk), killer.before);
});
