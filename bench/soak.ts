/**
 * Soak: 8 parallel readers and one writer on one read-write guestmount (ext4) for N minutes,
 * every read checked against what it must hold, everything verified again at the end (through
 * the mount, then after a remount, then e2fsck -fn), and the daemon's RSS sampled every second
 * and drawn as a text chart (and an SVG with --svg FILE).
 *   node dist/bench/soak.js [--minutes 10 | --seconds N] [--svg soak.svg]
 * Run as root after `npm run build`. Memory should be flat: the chart and the growth over the
 * second half say whether it is.
 */
process.env.UV_THREADPOOL_SIZE ??= '16'; // readers block threadpool threads on FUSE
import { createHash } from 'node:crypto';
import { open, readdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { prngInt } from '../disk/filters/prng.js';
import { scratch } from '../test/fixtures/cache.js';
import { run, runStatus } from '../test/fixtures/run.js';
import { daemonPidOf, withMount } from '../test/mount/helpers.js';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '10' }, seconds: { type: 'string' }, svg: { type: 'string' } } });
const seconds = values.seconds ? Number(values.seconds) : Number(values.minutes) * 60;
const READERS = 8;
const STATIC = 64;

/** Deterministic contents: the same key always gives the same bytes. */
function content(key: string, size: number): Buffer {
  const b = Buffer.alloc(size);
  let h = createHash('sha256').update(key).digest();
  for (let at = 0; at < size; at += 32) {
    h.copy(b, at, 0, Math.min(32, size - at));
    if (((at >> 5) & 1023) === 1023) h = createHash('sha256').update(h).digest();
  }
  return b;
}
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const dir = await scratch('soak');
const img = join(dir, 'disk.img');
await run('truncate', ['-s', '512M', img]);
await run('mkfs.ext4', ['-q', '-E', 'root_owner=0:0', img]);

const samples: number[] = [];
const counts = { reads: 0, readBytes: 0, writes: 0, fsyncs: 0, renames: 0, deletes: 0 };
const errors: string[] = [];
/** What the static files hold (name → sha256), and the writer's model: name → (version, size) of each live file. */
const statics = new Map<string, string>();
const live = new Map<string, { key: string; version: number; size: number }>();

/** Everything under `root` (a mount of the image) is what the model says. */
async function verify(root: string, when: string): Promise<void> {
  const names = (await readdir(join(root, 'live'))).sort();
  if (names.join() !== [...live.keys()].sort().join()) errors.push(`${when}: live/ lists ${names.length} files, the model ${live.size}`);
  for (const [name, m] of live) {
    const got = await readFile(join(root, 'live', name)).catch(() => undefined);
    if (!got || sha(got) !== sha(content(m.key, m.size))) errors.push(`${when}: live/${name} is wrong`);
  }
  for (const [name, want] of statics) if (sha(await readFile(join(root, 'static', name))) !== want) errors.push(`${when}: static/${name} is wrong`);
}

await withMount('soak', ['-a', img, '-m', '/dev/sda', '--rw'], async (mnt) => {
  const pid = (await daemonPidOf(mnt))!;
  const rss = async () => Number(/VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
  // The readers' set: written once, read for the whole run.
  await run('mkdir', ['-p', join(mnt, 'static'), join(mnt, 'live')]);
  for (let i = 0; i < STATIC; i++) {
    const name = `s${i}`;
    const b = content(name, 4096 + ((i * 37_813) % (512 << 10)));
    await writeFile(join(mnt, 'static', name), b);
    statics.set(name, sha(b));
  }
  const end = Date.now() + seconds * 1000;
  samples.push(await rss());
  const sampler = setInterval(() => void rss().then((v) => samples.push(v), () => undefined), 1000);

  const reader = async (r: number) => {
    const rnd = prngInt(100 + r);
    while (Date.now() < end) {
      const name = `s${rnd(STATIC)}`;
      try {
        const b = await readFile(join(mnt, 'static', name));
        counts.reads++;
        counts.readBytes += b.length;
        if (sha(b) !== statics.get(name)) errors.push(`reader ${r}: static/${name} read wrong bytes`);
        if (rnd(20) === 0) await readdir(join(mnt, rnd(2) ? 'static' : 'live'));
      } catch (e) {
        errors.push(`reader ${r}: ${(e as Error).message}`);
      }
    }
  };

  const writer = async () => {
    const rnd = prngInt(7);
    let next = 0;
    while (Date.now() < end) {
      try {
        const op = rnd(10);
        const names = [...live.keys()];
        if (op < 5 || names.length < 10) {
          const name = names.length > 200 || (op < 2 && names.length) ? names[rnd(names.length)]! : `w${next++}`;
          const version = (live.get(name)?.version ?? 0) + 1;
          const size = 1 + rnd(1 << 20);
          const fh = await open(join(mnt, 'live', name), 'w');
          const key = `${name}:${version}`;
          await fh.writeFile(content(key, size));
          await fh.sync();
          await fh.close();
          live.set(name, { key, version, size });
          counts.writes++;
          counts.fsyncs++;
        } else if (op < 7) {
          const name = names[rnd(names.length)]!;
          const to = `w${next++}`;
          await rename(join(mnt, 'live', name), join(mnt, 'live', to));
          live.set(to, live.get(name)!);
          live.delete(name);
          counts.renames++;
        } else if (op < 8) {
          const name = names[rnd(names.length)]!;
          await unlink(join(mnt, 'live', name));
          live.delete(name);
          counts.deletes++;
        } else {
          const name = names[rnd(names.length)]!;
          const m = live.get(name)!;
          const got = await readFile(join(mnt, "live", name));
          const want = content(m.key, m.size);
          if (!got.equals(want)) errors.push(`writer: live/${name} (version ${m.version}) reads back wrong: ${got.length} bytes, ${want.length} expected, first difference at ${got.findIndex((x, i) => x !== want[i])}`);
        }
      } catch (e) {
        errors.push(`writer: ${(e as Error).message}`);
      }
    }
  };

  await Promise.all([...Array.from({ length: READERS }, (_, r) => reader(r)), writer()]);
  clearInterval(sampler);
  await verify(mnt, 'at the end');
  console.log(`verified ${live.size} written files and ${STATIC} static files through the mount`);
});
await withMount('soak-ro', ['-a', img, '-m', '/dev/sda', '--ro'], (m) => verify(m, 'after remount'));
console.log('verified again after a read-only remount');
const fsck = await runStatus('e2fsck', ['-fn', img]);
await rm(dir, { recursive: true, force: true });

console.log(`${seconds} s: ${READERS} readers ${counts.reads} reads (${(counts.readBytes / 2 ** 20).toFixed(0)} MiB), writer ${counts.writes} writes+fsyncs, ${counts.renames} renames, ${counts.deletes} deletes`);
console.log(`e2fsck -fn after: exit ${fsck.code}${fsck.code === 0 ? ' (clean)' : `\n${fsck.stdout}`}`);
console.log(`errors: ${errors.length}${errors.length ? `\n  ${errors.slice(0, 20).join('\n  ')}` : ''}`);
console.log(chart(samples));
if (values.svg) await writeFile(values.svg, svg(samples));
process.exitCode = errors.length || fsck.code !== 0 ? 1 : 0;

/** RSS per second as rows of text: min, max, and growth over the second half. */
function chart(s: number[]): string {
  const W = 72;
  const H = 12;
  const lo = Math.min(...s);
  const hi = Math.max(...s);
  const cols = Array.from({ length: Math.min(W, s.length) }, (_, c) => {
    const part = s.slice(Math.floor((c * s.length) / Math.min(W, s.length)), Math.floor(((c + 1) * s.length) / Math.min(W, s.length)));
    return Math.max(...part);
  });
  const rows: string[] = [];
  for (let r = H - 1; r >= 0; r--) {
    const level = lo + ((hi - lo) * (r + 0.5)) / H;
    rows.push(`${(lo + ((hi - lo) * (r + 1)) / H).toFixed(0).padStart(5)} MiB |${cols.map((v) => (v >= level ? '█' : ' ')).join('')}`);
  }
  const half = s.slice(Math.floor(s.length / 2));
  const growth = half.length > 1 ? half[half.length - 1]! - half[0]! : 0;
  return [`daemon RSS, ${s.length} samples (1 s apart): first ${s[0]!.toFixed(0)} MiB, min ${lo.toFixed(0)}, max ${hi.toFixed(0)}, last ${s[s.length - 1]!.toFixed(0)}; second half grew ${growth.toFixed(1)} MiB`, ...rows, `${' '.repeat(10)}+${'-'.repeat(cols.length)}> time`].join('\n');
}

function svg(s: number[]): string {
  const hi = Math.max(...s) * 1.1;
  const pts = s.map((v, i) => `${((i / Math.max(1, s.length - 1)) * 600).toFixed(1)},${(200 - (v / hi) * 200).toFixed(1)}`).join(' ');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="230"><g transform="translate(30,10)"><polyline fill="none" stroke="steelblue" points="${pts}"/><text x="0" y="215" font-size="11">daemon RSS over ${s.length} s, 0..${hi.toFixed(0)} MiB</text></g></svg>\n`;
}
