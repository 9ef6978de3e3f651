/**
 * The hive writer under SIGKILL. It writes only inside virt-v2v, to the copy-on-write overlay
 * over the source, so a kill at any point must leave the source image byte for byte as it
 * was, and a conversion run again afterwards must succeed with hives hivex reads. virt-v2v
 * is killed at seeded moments spread over a Windows conversion (hive edits, driver copies,
 * the disk copy).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { prng } from '../../disk/filters/prng.js';
import { scratch } from '../fixtures/cache.js';
import { hashFile, run } from '../fixtures/run.js';
import { BIN } from '../e2e/tools.js';
import { ntfscat, systemDrive } from '../v2v/convert/windows/helpers.js';
import { virtioWinDir } from '../v2v/images/virtio-win.js';
import { WIN2K19, windowsGuest } from '../v2v/images/windows-guest.js';

const KILLS = 6;

test(`virt-v2v SIGKILLed ${KILLS} times in a Windows conversion: the source never changes, and a conversion after it succeeds`, { timeout: 600_000 }, async () => {
  const { disk } = await windowsGuest(WIN2K19);
  const before = await hashFile(disk);
  const work = await scratch('crash-v2v');
  const env = { ...process.env, VIRTIO_WIN: await virtioWinDir(), TMPDIR: join(work, 'tmp') };
  await mkdir(env.TMPDIR, { recursive: true });
  const args = (out: string) => [join(BIN, 'virt-v2v.js'), '-i', 'disk', disk, '-o', 'local', '-os', out, '-of', 'qcow2', '-on', 'win'];

  // How long a whole conversion takes here, to spread the kills over it.
  const timed = join(work, 'timed');
  await mkdir(timed);
  const t0 = Date.now();
  await run(process.execPath, args(timed), { env });
  const whole = Date.now() - t0;

  const rnd = prng(2026);
  let kills = 0;
  // A run that ends before its kill does not count; a loaded machine may make a few.
  for (let k = 0; kills < KILLS && k < 3 * KILLS; k++) {
    const out = join(work, `killed-${k}`);
    await mkdir(out);
    const v2v = spawn(process.execPath, args(out), { env, stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((r) => v2v.once('exit', (_code, signal) => r(signal)));
    const at = Math.floor(50 + rnd() * whole * 0.9);
    const timer = setTimeout(() => v2v.kill('SIGKILL'), at);
    if ((await exited) === 'SIGKILL') kills++;
    clearTimeout(timer);
    assert.equal(await hashFile(disk), before, `the source changed after a kill at ${at} ms of ${whole}`);
  }
  assert.equal(kills, KILLS, `only ${kills} runs were killed before they ended`);

  // Afterwards: a clean conversion whose SYSTEM hive hivex reads, with the boot driver in it.
  const out = join(work, 'after');
  await mkdir(out);
  await run(process.execPath, args(out), { env });
  const system = join(work, 'SYSTEM');
  await writeFile(system, await ntfscat(await systemDrive(join(out, 'win-sda'), work), '/Windows/System32/config/SYSTEM'));
  const current = (await run('hivexget', [system, 'Select', 'Current'])).trim();
  assert.equal((await run('hivexget', [system, `ControlSet${current.padStart(3, '0')}\\Services\\viostor`, 'Start'])).trim(), '0');
  assert.equal(await hashFile(disk), before);
  await rm(env.TMPDIR, { recursive: true, force: true });
});
