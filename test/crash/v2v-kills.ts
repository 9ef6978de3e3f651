/**
 * The hive writer under SIGKILL: it writes only inside virt-v2v, to the copy-on-write overlay
 * over the source, so virt-v2v killed at any point of a Windows conversion (hive edits,
 * driver copies, the disk copy) must leave the source image byte for byte as it was. Shared
 * by test/crash/v2v.test.ts and bench/crash-v2v.ts.
 */
import { spawn } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { hashFile, run } from '../fixtures/run.js';
import { BIN } from '../e2e/tools.js';
import { virtioWinDir } from '../v2v/images/virtio-win.js';
import { WIN2K19, windowsGuest } from '../v2v/images/windows-guest.js';

export interface V2vKiller {
  disk: string;
  /** The source's sha256 before any run. */
  before: string;
  /** Run virt-v2v to completion into `out`. */
  convert(out: string): Promise<void>;
  /** Kill a run at a seeded point; false when it ended before its kill. Throws when the source changed. */
  kill(out: string, rnd: () => number): Promise<boolean>;
}

export async function v2vKiller(work: string): Promise<V2vKiller> {
  const { disk } = await windowsGuest(WIN2K19);
  const before = await hashFile(disk);
  const env = { ...process.env, VIRTIO_WIN: await virtioWinDir(), TMPDIR: join(work, 'tmp') };
  await mkdir(env.TMPDIR, { recursive: true });
  const args = (out: string) => [join(BIN, 'virt-v2v.js'), '-i', 'disk', disk, '-o', 'local', '-os', out, '-of', 'qcow2', '-on', 'win'];
  const convert = async (out: string) => {
    await mkdir(out, { recursive: true });
    await run(process.execPath, args(out), { env });
  };
  // How long a whole conversion takes here, to spread the kills over it.
  const timed = join(work, 'timed');
  const t0 = Date.now();
  await convert(timed);
  const whole = Date.now() - t0;
  await rm(timed, { recursive: true, force: true });
  return {
    disk,
    before,
    convert,
    async kill(out, rnd) {
      await mkdir(out, { recursive: true });
      const v2v = spawn(process.execPath, args(out), { env, stdio: 'ignore' });
      const exited = new Promise<NodeJS.Signals | null>((r) => v2v.once('exit', (_code, signal) => r(signal)));
      const at = Math.floor(50 + rnd() * whole * 0.9);
      const timer = setTimeout(() => v2v.kill('SIGKILL'), at);
      const killed = (await exited) === 'SIGKILL';
      clearTimeout(timer);
      // Killed runs leave their overlays in TMPDIR (as libguestfs's virt-v2v leaves its own).
      await rm(out, { recursive: true, force: true });
      if ((await hashFile(disk)) !== before) throw new Error(`${disk}: the source changed after a kill at ${at} ms of a ${whole} ms conversion`);
      return killed;
    },
  };
}

