import assert from 'node:assert/strict';
import { readFile as readHostFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { RawFile } from '../../../disk/raw.js';
import type { Filesystem } from '../../../fs/filesystem.js';
import { AT } from '../../../fs/ntfs/attribute.js';
import { ntfsDriver } from '../../../fs/ntfs/driver.js';
import type { NtfsFilesystem } from '../../../fs/ntfs/ntfs.js';
import { readFile, resolvePath } from '../../../fs/path.js';
import { hashFile, run, runStatus } from '../../fixtures/run.js';
import { clusterProblems } from './consistency.js';
import { prng as rng } from '../../../disk/filters/prng.js';
import { copyImage, ntfsImage, SPECS, smallImage, withNtfs3g } from './images.js';
import { unlocked } from '../../../fs/locked.js';

interface Model {
  data: Buffer;
  xattrs: Map<string, Buffer>;
}

async function ntfsfixClean(img: string): Promise<void> {
  const r = await runStatus('ntfsfix', ['-n', img]);
  assert.equal(r.code, 0, `ntfsfix -n: ${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /processed successfully/);
  await run('ntfsls', ['-R', img]);
}

test('ntfs write: a seeded random sequence of writes, truncates and streams matches a model, ntfsfix-clean, as ntfs-3g reads it', { timeout: 300_000 }, async () => {
  const img = await copyImage(await smallImage(), 'ntfs-write');
  const files = ['/d/e/f', '/big', '/d/name-1', '/d/name-2', '/d/name-3'];
  const dev = await RawFile.open(img, true);
  let fs: Filesystem = await ntfsDriver.open(dev, { writable: true });
  const model = new Map<string, Model>();
  for (const p of files) model.set(p, { data: await readFile(fs, p), xattrs: new Map() });
  const rand = rng(Number(process.env.NTFS_WRITE_SEED ?? 20261122));
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const OPS = 300;
  for (let i = 0; i < OPS; i++) {
    const path = pick(files);
    const m = model.get(path)!;
    const { ino } = await resolvePath(fs, path);
    const op = rand();
    if (op < 0.5) {
      // Small writes stay resident; large ones and far offsets go to clusters.
      const len = rand() < 0.5 ? Math.floor(rand() * 300) + 1 : Math.floor(rand() * 70000) + 1;
      const off = rand() < 0.7 ? Math.floor(rand() * (m.data.length + 1)) : Math.floor(rand() * 600000);
      const data = Buffer.alloc(len, `op${i}-`);
      await fs.write(ino, off, data);
      const grown = Buffer.alloc(Math.max(m.data.length, off + len));
      m.data.copy(grown);
      data.copy(grown, off);
      m.data = grown;
    } else if (op < 0.75) {
      const size = rand() < 0.3 ? 0 : Math.floor(rand() * 400000);
      await fs.truncate(ino, size);
      const t = Buffer.alloc(size);
      m.data.copy(t, 0, 0, Math.min(size, m.data.length));
      m.data = t;
    } else if (op < 0.92) {
      const name = pick(['user.a', 'user.b', 'user.long']);
      const v = Buffer.alloc(name === 'user.long' ? Math.floor(rand() * 9000) : Math.floor(rand() * 40), `x${i}`);
      await fs.setxattr(ino, name, v, 0);
      m.xattrs.set(name, v);
    } else if (m.xattrs.size) {
      const name = pick([...m.xattrs.keys()]);
      await fs.removexattr(ino, name);
      m.xattrs.delete(name);
    }
    if (i % 50 === 49) {
      // Reopen now and then: what is on disk, not what is cached, must match.
      await fs.close();
      fs = await ntfsDriver.open(dev, { writable: true });
      for (const [p, mm] of model) assert.ok((await readFile(fs, p)).equals(mm.data), `${p} after ${i + 1} ops`);
    }
  }
  await fs.close();
  await dev.close();
  await ntfsfixClean(img);
  assert.deepEqual(await clusterProblems(img), [], 'runs and $Bitmap agree');
  // Directory entries carry the new sizes too (ntfsls reads them from the index).
  for (const [p, m] of model) {
    const dir = p.slice(0, p.lastIndexOf('/')) || '/';
    const base = p.slice(p.lastIndexOf('/') + 1);
    const line = (await run('ntfsls', ['-l', '-p', dir, img])).split('\n').find((l) => l.endsWith(` ${base}`));
    assert.equal(Number(line?.trim().split(/\s+/)[0]), m.data.length, `ntfsls size of ${p}`);
  }
  await withNtfs3g(img, 'ro,streams_interface=xattr', async (mnt) => {
    for (const [p, m] of model) {
      assert.ok((await readHostFile(join(mnt, p))).equals(m.data), `${p}: ntfs-3g reads the model's bytes`);
      const names = (await run('getfattr', ['-d', '-m', '^user\\.', '--absolute-names', join(mnt, p)])).split('\n').filter((l) => l.startsWith('user.')).map((l) => l.split('=')[0]);
      assert.deepEqual(names.sort(), [...m.xattrs.keys()].sort(), `${p}: streams`);
      for (const [k, v] of m.xattrs) {
        const got = (await run('getfattr', ['--only-values', '-n', k, '--absolute-names', join(mnt, p)]));
        assert.equal(got, v.toString(), `${p} ${k}`);
      }
    }
  });
});

test('ntfs write: compressed files and read-only opens refuse writes, not one byte written', async () => {
  const img = await copyImage(await ntfsImage(SPECS[4096]), 'ntfs-comp');
  const before = await hashFile(img);
  const dev = await RawFile.open(img, true);
  const fs = await ntfsDriver.open(dev, { writable: true });
  const comp = await resolvePath(fs, '/comp/text');
  await assert.rejects(fs.write(comp.ino, 0, Buffer.from('x')), /ENOTSUP: .*compressed files are read-only/);
  await assert.rejects(fs.truncate(comp.ino, 0), /ENOTSUP: .*compressed/);
  await fs.close();
  const ro = await ntfsDriver.open(dev);
  await assert.rejects(ro.write((await resolvePath(ro, '/r300')).ino, 0, Buffer.from('x')), /EROFS: ntfs is mounted read-only: write refused/);
  await dev.close();
  assert.equal(await hashFile(img), before);
});

test('ntfs write: a file spread over extension records can be overwritten and its runs changed', async () => {
  const img = await copyImage(await smallImage(), 'ntfs-extents');
  const dev = await RawFile.open(img, true);
  const fs = await ntfsDriver.open(dev, { writable: true });
  const f = await resolvePath(fs, '/manyruns');
  await fs.write(f.ino, 298 * 65536, Buffer.from('P298'));
  await fs.write(f.ino, 5 * 65536 + 1, Buffer.from('5!'));
  // Filling a hole changes the runs: the extents are laid out again in new extension records.
  await fs.write(f.ino, 65536 * 3 + 8192, Buffer.from('into a hole'));
  await fs.close();
  await dev.close();
  await ntfsfixClean(img);
  assert.deepEqual(await clusterProblems(img), []);
  await withNtfs3g(img, 'ro', async (mnt) => {
    const b = await readHostFile(join(mnt, 'manyruns'));
    assert.equal(b.toString('latin1', 298 * 65536, 298 * 65536 + 5), 'P298\0');
    assert.equal(b.toString('latin1', 299 * 65536, 299 * 65536 + 4), 'p299');
    assert.equal(b.toString('latin1', 5 * 65536, 5 * 65536 + 3), 'p5!');
    assert.equal(b.toString('latin1', 6 * 65536, 6 * 65536 + 2), 'p6');
    assert.equal(b.toString('latin1', 65536 * 3 + 8192, 65536 * 3 + 8203), 'into a hole');
  });
});

test('ntfs write: interleaved appends fragment two files until they outgrow their records (attribute lists)', { timeout: 120_000 }, async () => {
  const img = await copyImage(await smallImage(), 'ntfs-spread');
  const dev = await RawFile.open(img, true);
  const fs = unlocked(await ntfsDriver.open(dev, { writable: true })) as NtfsFilesystem;
  const files = [await fs.create(fs.rootIno, 'frag-a', 0o644, 0, 0), await fs.create(fs.rootIno, 'frag-b', 0o644, 0, 0)];
  const models = [Buffer.alloc(0), Buffer.alloc(0)];
  for (let i = 0; i < 500; i++) {
    for (const k of [0, 1]) {
      const piece = Buffer.alloc(4096, `${k}:${i} `);
      await fs.write(files[k]!.ino, models[k]!.length, piece);
      models[k] = Buffer.concat([models[k]!, piece]);
    }
  }
  const f = await fs.mft.file(files[0]!.ino);
  assert.ok(f.find(AT.DATA)!.runs.length > 300 && f.records.length > 1, `${f.find(AT.DATA)!.runs.length} runs over ${f.records.length} records`);
  await fs.close();
  await dev.close();
  await ntfsfixClean(img);
  assert.deepEqual(await clusterProblems(img), []);
  await withNtfs3g(img, 'ro', async (mnt) => {
    for (const k of [0, 1]) assert.ok((await readHostFile(join(mnt, `frag-${'ab'[k]}`))).equals(models[k]!), 'ntfs-3g reads the same bytes');
  });
  // Removing one frees its clusters and all its records.
  const dev2 = await RawFile.open(img, true);
  const fs2 = await ntfsDriver.open(dev2, { writable: true });
  await fs2.unlink(fs2.rootIno, 'frag-b');
  await fs2.close();
  await dev2.close();
  await ntfsfixClean(img);
  assert.deepEqual(await clusterProblems(img), []);
});

test('ntfs write: the first change marks the volume dirty until a clean close (ntfsinfo); a crash leaves it dirty, and writes are then refused', async () => {
  const img = await copyImage(await smallImage(), 'ntfs-dirty');
  // ntfs-3g's tools refuse a dirty volume ("scheduled for check") unless forced.
  const flags = async () => /Volume Flags: (0x[0-9a-f]+)/i.exec(await run('ntfsinfo', ['-f', '-m', img]))?.[1];
  assert.equal(await flags(), '0x0000');
  // An open for writing that changes nothing writes nothing.
  const before = await hashFile(img);
  const idle = await RawFile.open(img, true);
  await (await ntfsDriver.open(idle, { writable: true })).close();
  await idle.close();
  assert.equal(await hashFile(img), before);

  const dev = await RawFile.open(img, true);
  const fs = await ntfsDriver.open(dev, { writable: true });
  const f = await fs.create(fs.rootIno, 'written', 0o644, 0, 0);
  assert.equal(await flags(), '0x0001', 'dirty once changed');
  await fs.write(f.ino, 0, Buffer.from('data\n'));
  await fs.close();
  await dev.close();
  assert.equal(await flags(), '0x0000', 'clean after a clean close');
  await ntfsfixClean(img);

  // A "crash": the device goes away without close(); the flag stays for Windows' chkdsk.
  const dev2 = await RawFile.open(img, true);
  const fs2 = await ntfsDriver.open(dev2, { writable: true });
  await fs2.write(f.ino, 0, Buffer.from('more\n'));
  await dev2.close();
  assert.equal(await flags(), '0x0001');
  const dev3 = await RawFile.open(img, true);
  await assert.rejects(ntfsDriver.open(dev3, { writable: true }), /volume is marked dirty/);
  // Forced, it writes, and leaves the flag as it found it.
  const forced = await ntfsDriver.open(dev3, { writable: true, options: { force: true }, warn: () => undefined });
  await forced.write(f.ino, 0, Buffer.from('again\n'));
  await forced.close();
  await dev3.close();
  assert.equal(await flags(), '0x0001');
});
