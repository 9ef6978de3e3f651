/**
 * Crash consistency of the writers behind a real guestmount daemon: mount a copy of an image,
 * run the write workload (workload.ts) from another process, SIGKILL the daemon at a seeded
 * point, free the mount, then check the image with its own tool and every acknowledged write
 * with a real reader (debugfs, mtools, ntfs-3g). Shared by test/crash/ and bench/crash.ts.
 */
import { spawn } from 'node:child_process';
import { copyFile, mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { prng } from '../../disk/filters/prng.js';
import { fixture } from '../fixtures/cache.js';
import { run, runStatus } from '../fixtures/run.js';
import { withNtfs3g } from '../fs/ntfs/images.js';
import { daemonPidOf, guestmount, withMountpoint } from '../mount/helpers.js';
import { converted, ext4Image, fatImage, ntfsImage } from '../mount/images.js';
import { parseLog, stream, WORKLOAD_PY, type Acknowledged } from './workload.js';

export type Writer = 'ext4' | 'fat' | 'ntfs' | 'qcow2';

export interface CrashResult {
  seed: number;
  /** Operations the workload saw acknowledged before the kill. */
  acks: number;
  /** The operation in flight at the kill. */
  inFlight: string;
  /** What the image's check or the acknowledged writes got wrong (empty: survived). */
  problems: string[];
  /** Notes that are not failures (a FAT dirty bit, qcow2 leaked clusters). */
  notes: string[];
}

const POLL_MS = 50;

/** One run: mount `base`'s copy in `dir`, kill at a point chosen by `seed`, check. */
export async function crashRun(writer: Writer, base: string, seed: number, dir: string): Promise<CrashResult> {
  const rnd = prng(seed);
  const img = join(dir, writer === 'qcow2' ? 'disk.qcow2' : 'disk.img');
  await copyFile(base, img);
  const logFile = join(dir, 'acked.log');
  await rm(logFile, { force: true });
  const targetAcks = 1 + Math.floor(rnd() * 8);
  const extraMs = Math.floor(rnd() * 500);
  await withMountpoint(`crash-${writer}`, async (mnt) => {
    const m = await guestmount([...(writer === 'qcow2' ? ['--format=qcow2'] : []), '-a', img, '-m', '/dev/sda', mnt]);
    if (m.code !== 0) throw new Error(`guestmount failed (${m.code}): ${m.stderr}`);
    const pid = await daemonPidOf(mnt);
    if (!pid) throw new Error(`no daemon serves ${mnt}`);
    const py = spawn('python3', ['-c', WORKLOAD_PY, logFile, String(seed)], { cwd: mnt, stdio: 'ignore' });
    const exited = new Promise<void>((r) => py.once('exit', () => r()));
    for (let waited = 0; waited < 30_000; waited += POLL_MS) {
      const acks = (await readFile(logFile, 'utf8').catch(() => '')).split('\n').filter((l) => l === 'ack').length;
      if (acks >= targetAcks) break;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    await new Promise((r) => setTimeout(r, extraMs));
    process.kill(pid, 'SIGKILL');
    // The workload's next call fails once the connection is gone; it must not outlive the run.
    const killer = setTimeout(() => py.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
    await run('fusermount', ['-u', '-z', mnt]);
  });
  const ack = parseLog(await readFile(logFile, 'utf8').catch(() => ''));
  const result: CrashResult = { seed, acks: ack.acks, inFlight: ack.inFlight ? JSON.stringify(ack.inFlight) : 'none', problems: [], notes: [] };
  const out = join(dir, 'extracted');
  await rm(out, { recursive: true, force: true });
  await mkdir(out);
  if (writer === 'ext4' || writer === 'qcow2') {
    let raw = img;
    if (writer === 'qcow2') {
      const check = await runStatus('qemu-img', ['check', '-f', 'qcow2', img]);
      // 3: leaked clusters only, which waste space and harm nothing (qemu-img's own words).
      if (check.code === 3) result.notes.push(`qcow2 leaked clusters: ${/(\d+) leaked clusters/.exec(check.stdout)?.[1] ?? '?'}`);
      else if (check.code !== 0) result.problems.push(`qemu-img check: exit ${check.code}\n${check.stdout}${check.stderr}`);
      raw = join(dir, 'inner.img');
      await run('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', img, raw]);
    }
    result.problems.push(...(await checkExt4(raw, result.notes)));
    await run('debugfs', ['-R', `rdump /crash ${out}`, raw]);
  } else if (writer === 'fat') {
    const fsck = await runStatus('fsck.fat', ['-n', img]);
    // What a kill leaves on FAT, which has no journal (as pulling the plug on Linux's vfat
    // does): the boot sector's dirty bit (byte 0x41 on FAT32, 0x25 on FAT12/16, so it differs
    // from the backup there), the second FAT a step behind the first (the copies are written one
    // after the other, as Linux writes them; fsck.fat finds both intact and uses the first), an
    // FSInfo free count behind the FAT, and from the operation in
    // flight clusters not yet linked or no longer linked (a chain longer than its file's size,
    // unused clusters). A size the chain does not cover, or anything else, is damage.
    const LEFT = [/^fsck\.fat \d/, /^\S+: \d+ files, \d+\/\d+ clusters$/, /^There are differences between boot sector and its backup\.$/,
      /^This is mostly harmless\. Differences: \(offset:original\/backup\)$/, /^(65|37):01\/00$/, /^Not automatically fixing this\.$/,
      /^Dirty bit is set\. Fs was not properly unmounted and some data may be corrupt\.$/, /^Automatically removing dirty bit\.$/, /^Leaving filesystem unchanged\.$/,
      /^Free cluster summary wrong \(\d+ vs\. really \d+\)$/, /^Auto-correcting\.$/, /^Reclaimed \d+ unused clusters? \(\d+ bytes\)\.$/,
      /^FATs differ but appear to be intact\.$/, /^Using first FAT\.$/, /^\/\S+$/, /^File size is \d+ bytes, cluster chain length is > \d+ bytes\.$/, /^Truncating file to \d+ bytes\.$/];
    const lines = fsck.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
    for (const [re, note] of [[/Dirty bit is set/, 'FAT dirty bit set'], [/Free cluster summary wrong/, 'FSInfo free count behind'], [/Reclaimed/, 'unused clusters'], [/chain length is >/, 'chain past the size'], [/FATs differ but appear to be intact/, 'second FAT behind']] as const) {
      if (lines.some((l) => re.test(l))) result.notes.push(note);
    }
    if (fsck.code > 1 || lines.some((l) => !LEFT.some((re) => re.test(l)))) result.problems.push(`fsck.fat -n: exit ${fsck.code}\n${fsck.stdout}${fsck.stderr}`);
    await runStatus('mcopy', ['-s', '-n', '-i', img, '::/crash', out], { env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
  } else {
    const fix = await runStatus('ntfsfix', ['-n', img]);
    if (fix.code !== 0) result.problems.push(`ntfsfix -n: exit ${fix.code}\n${fix.stdout}${fix.stderr}`);
    // ntfs-3g refuses a volume whose $MFTMirr differs from $MFT: that is a finding too.
    const mounted = await withNtfs3g(img, 'ro', (mnt) => runStatus('cp', ['-r', join(mnt, 'crash'), out])).catch((e: Error) => e);
    if (mounted instanceof Error) result.problems.push(`ntfs-3g -o ro: ${mounted.message.split('\n')[0]} (ntfsfix -n exit ${fix.code}: ${fix.stdout.trim().split('\n').join(' / ')})`);
  }
  // Only a journal makes a rename atomic. FAT has none, and NTFS's is $LogFile, which neither
  // ntfs-3g nor we write: both rename by adding the new name before removing the old.
  result.problems.push(...(await checkWrites(ack, join(out, 'crash'), writer === 'ext4' || writer === 'qcow2')));
  return result;
}

/** e2fsck's replay must be all the image needs: then e2fsck -fn finds it clean. */
async function checkExt4(img: string, notes: string[]): Promise<string[]> {
  const fix = await runStatus('e2fsck', ['-fy', img]);
  if (/recovering journal/.test(fix.stdout)) notes.push('journal replayed');
  const problems: string[] = [];
  if (fix.code > 1 || /\? yes$/m.test(fix.stdout)) problems.push(`e2fsck -fy repaired more than a journal replay (exit ${fix.code}):\n${fix.stdout}`);
  const clean = await runStatus('e2fsck', ['-fn', img]);
  if (clean.code !== 0) problems.push(`e2fsck -fn after replay: exit ${clean.code}\n${clean.stdout}`);
  return problems;
}

/** Files and directories under `top` on the host: path relative to the image's root → bytes or 'dir'. */
async function hostTree(top: string, rel = 'crash', into = new Map<string, Buffer | 'dir'>()): Promise<Map<string, Buffer | 'dir'>> {
  const st = await stat(top).catch(() => null);
  if (!st) return into;
  into.set(rel, 'dir');
  for (const e of await readdir(top, { withFileTypes: true })) {
    const p = join(top, e.name);
    if (e.isDirectory()) await hostTree(p, `${rel}/${e.name}`, into);
    else into.set(`${rel}/${e.name}`, await readFile(p));
  }
  return into;
}

/**
 * Every acknowledged file has exactly its acknowledged bytes, every acknowledged directory is
 * there, and nothing else is, except what the operation in flight may or may not have done:
 * a create may have left its file, an append any length between before and after, a rename
 * the old or the new name (both, where renames are not atomic: FAT and NTFS), an unlink the file.
 */
export async function checkWrites(ack: Acknowledged, top: string, atomicRename: boolean): Promise<string[]> {
  const tree = await hostTree(top);
  const problems: string[] = [];
  const f = ack.inFlight;
  const maybe = new Set<string>();
  const expect = (path: string, id: string, size: number, lengths: [number, number] = [size, size]): void => {
    const got = tree.get(path);
    if (got === undefined || got === 'dir') return void problems.push(`${path}: acknowledged file ${got ? 'is a directory' : 'is missing'}`);
    if (got.length < lengths[0] || got.length > lengths[1] || !got.equals(stream(id, got.length))) problems.push(`${path}: ${got.length} bytes, not the acknowledged ${lengths[0] === lengths[1] ? size : `${lengths[0]}..${lengths[1]}`} bytes of ${id}`);
  };
  if (ack.acks > 0 && tree.get('crash') !== 'dir') problems.push('crash: acknowledged directory is missing');
  for (const d of ack.dirs) if (tree.get(d) !== 'dir') problems.push(`${d}: acknowledged directory is missing`);
  for (const [path, { id, size }] of ack.files) {
    if (f?.op === 'append' && f.path === path) expect(path, id, size, [size, f.size]);
    else if (f?.op === 'unlink' && f.path === path) {
      if (tree.has(path)) expect(path, id, size);
    } else if (f?.op === 'rename' && f.from === path) {
      const at = [path, f.to].filter((p) => tree.has(p));
      if (!at.length) problems.push(`${path}: renamed to ${f.to} in flight, now under neither name`);
      if (at.length > 1 && atomicRename) problems.push(`${path}: renamed to ${f.to} in flight, now under both names`);
      for (const p of at) expect(p, id, size);
      maybe.add(f.to);
    } else expect(path, id, size);
  }
  if (f?.op === 'create' || f?.op === 'mkdir') maybe.add(f.path);
  for (const [path] of tree) {
    if (path !== 'crash' && !ack.files.has(path) && !ack.dirs.has(path) && !maybe.has(path)) problems.push(`${path}: never acknowledged, yet there`);
  }
  return problems;
}

/**
 * The image each writer starts from: the mount tests' trees; the ext4 one with its journal's
 * features set as the kernel's first mount sets them (csum v3, 64-bit tags), also inside a qcow2.
 */
export async function crashImage(writer: Writer): Promise<string> {
  if (writer === 'fat') return fatImage();
  if (writer === 'ntfs') return ntfsImage();
  const ext4 = await fixture('crash-ext4.img', `v1 ${ext4Image.toString()}`, async (path) => {
    await copyFile(await ext4Image(), path);
    await run('debugfs', ['-w', '-f', '-', path], { input: 'jo -c\njc\n' });
  });
  return writer === 'ext4' ? ext4 : converted(ext4, 'crash-ext4.qcow2', ['-f', 'raw', '-O', 'qcow2']);
}
