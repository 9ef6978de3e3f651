import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { BlockDevice } from '../../../disk/block-device.js';
import { openDisk } from '../../../disk/open.js';
import { createOverlay } from '../../../disk/qcow2/create.js';
import { RawFile } from '../../../disk/raw.js';
import { scratch } from '../../fixtures/cache.js';
import { hashDevice, hashFile, qemuRawHash, run, runStatus } from '../../fixtures/run.js';
import { imageDir, type Step } from './images.js';

const MiB = 1 << 20;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const base: Step = ['raw', 'base.raw', String(6 * MiB), String(4 * MiB + 777), '3'];

/**
 * Deterministic random writes of mixed sizes (tiny, unaligned, cluster-crossing, large),
 * mirrored into `model`. With `inFlight` > 1, up to that many disjoint writes are issued
 * together, with a read of a range none of them touches, which must read the model, and a
 * read of a large one just issued, each cluster of which must read as before or as after it.
 */
async function randomWrites(dev: BlockDevice, model: Buffer, ops: number, seed: number, inFlight = 1): Promise<void> {
  let s = seed >>> 0 || 1;
  const rnd = (n: number) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
  let batch: { off: number; len: number; done: Promise<void> }[] = [];
  let racing: { off: number; old: Buffer; data: Buffer; read: Promise<Buffer> } | undefined;
  const settle = async () => {
    const ranges = batch;
    const race = racing;
    batch = [];
    racing = undefined;
    const off = rnd(model.length - 70000);
    const read = ranges.some((r) => r.off < off + 70000 && off < r.off + r.len) ? undefined : dev.read(BigInt(off), 70000);
    await Promise.all(ranges.map((r) => r.done));
    if (read) assert.ok((await read).equals(model.subarray(off, off + 70000)), `a read at ${off} during writes elsewhere`);
    if (race) {
      const got = await race.read;
      // Cluster by cluster (64 KiB): each is mapped and read as one.
      for (let p = 0; p < got.length; ) {
        const end = Math.min(got.length, (Math.floor((race.off + p) / 65536) + 1) * 65536 - race.off);
        const piece = got.subarray(p, end);
        assert.ok(piece.equals(race.old.subarray(p, end)) || piece.equals(race.data.subarray(p, end)), `a read racing a write at ${race.off}: bytes ${p}-${end} are neither`);
        p = end;
      }
    }
  };
  for (let i = 0; i < ops; i++) {
    const kind = rnd(10);
    const len = kind < 4 ? 1 + rnd(600) : kind < 8 ? 1 + rnd(20000) : kind < 9 ? 4096 * (1 + rnd(32)) : 1 + rnd(300000);
    const off = kind === 8 ? 4096 * rnd(Math.floor((model.length - len) / 4096)) : rnd(model.length - len + 1);
    const data = Buffer.alloc(len, rnd(256));
    for (let p = 0; p + 4 <= len; p += 509) data.writeUInt32LE(i * 7919 + p, p);
    if (batch.length >= inFlight || batch.some((r) => r.off < off + len && off < r.off + r.len)) await settle();
    const old = Buffer.from(model.subarray(off, off + len));
    model.set(data, off);
    batch.push({ off, len, done: dev.write(BigInt(off), data) });
    if (inFlight > 1 && !racing && len > 200000) {
      // Issued once the write has had time to allocate, while its data may still be landing.
      await new Promise((resolve) => setImmediate(resolve));
      racing = { off, old, data, read: dev.read(BigInt(off), len) };
    }
    if (rnd(200) === 0) {
      await settle();
      await dev.flush();
    }
  }
  await settle();
}

/** qemu-img check is clean, and qemu-img and a fresh open of ours both read `model`. */
async function verify(path: string, model: Buffer, openOpts: Parameters<typeof openDisk>[1] = {}): Promise<void> {
  const check = await runStatus('qemu-img', ['check', path]);
  assert.equal(check.code, 0, `qemu-img check: ${check.stdout}${check.stderr}`);
  assert.match(check.stdout, /No errors were found on the image/);
  const want = sha(model);
  assert.equal(await qemuRawHash(path), want, 'qemu-img convert -O raw reads what we wrote');
  const dev = await openDisk(path, { format: 'qcow2', ...openOpts });
  try {
    assert.equal(await hashDevice(dev), want, 'our reader reads what we wrote');
  } finally {
    await dev.close();
  }
}

test('qcow2 createOverlay over raw: thousands of random writes read back by qemu and by us', async () => {
  const dir = await scratch('qcow2-overlay');
  const src = join(await imageDir('write-base', [base]), 'base.raw');
  await copyFile(src, join(dir, 'base.raw'));
  const model = await readFile(join(dir, 'base.raw'));
  const backing = await RawFile.open(join(dir, 'base.raw'));
  const path = join(dir, 'over.qcow2');
  const dev = await createOverlay(backing, path, { backingName: 'base.raw', backingFormat: 'raw' });
  assert.equal(dev.size, BigInt(model.length));
  assert.equal(dev.canWrite(), true);
  assert.equal(await hashDevice(dev), sha(model), 'fresh overlay reads the backing');
  await randomWrites(dev, model, 3000, 1);
  assert.equal(await hashDevice(dev), sha(model), 'live device reads the model');
  await dev.close();
  const info = JSON.parse(await run('qemu-img', ['info', '--output=json', path])) as Record<string, unknown>;
  assert.equal(info['backing-filename'], 'base.raw');
  assert.equal(info['backing-filename-format'], 'raw');
  assert.equal(await hashFile(join(dir, 'base.raw')), await hashFile(src), 'the backing file is untouched');
  await verify(path, model);
});

test('qcow2 createOverlay: writes in flight together (new cluster runs landing while others are mapped, read and rewritten) read back by qemu and by us', async () => {
  const dir = await scratch('qcow2-overlay-inflight');
  const model = await readFile(join(await imageDir('write-base', [base]), 'base.raw'));
  const path = join(dir, 'over.qcow2');
  const dev = await createOverlay(await RawFile.open(join(await imageDir('write-base', [base]), 'base.raw')), path, { backingName: 'base.raw', backingFormat: 'raw' });
  await randomWrites(dev, model, 2000, 7, 8);
  assert.equal(await hashDevice(dev), sha(model), 'live device reads the model');
  await dev.close();
  await copyFile(join(await imageDir('write-base', [base]), 'base.raw'), join(dir, 'base.raw'));
  await verify(path, model);
});

test('qcow2 createOverlay with 512-byte clusters grows the refcount table', async () => {
  const dir = await scratch('qcow2-grow');
  const big: Step = ['raw', 'base.raw', String(12 * MiB), String(MiB), '4'];
  await copyFile(join(await imageDir('write-big-base', [big]), 'base.raw'), join(dir, 'base.raw'));
  const model = await readFile(join(dir, 'base.raw'));
  const path = join(dir, 'over.qcow2');
  const dev = await createOverlay(await RawFile.open(join(dir, 'base.raw')), path, { backingName: 'base.raw', backingFormat: 'raw', clusterSize: 512 });
  const tableBefore = (await readFile(path)).readBigUInt64BE(48);
  // 512-byte clusters with one refcount table cluster cover 8 MiB: write more than that.
  for (let off = 0; off < model.length; off += MiB) {
    const chunk = Buffer.alloc(Math.min(MiB, model.length - off), off / MiB + 1);
    model.set(chunk, off);
    await dev.write(BigInt(off), chunk);
  }
  await randomWrites(dev, model, 600, 2);
  await dev.close();
  assert.notEqual((await readFile(path)).readBigUInt64BE(48), tableBefore, 'the refcount table moved');
  await verify(path, model);
});

test('qcow2 createOverlay writes a json: backing name qemu-img can open', async () => {
  const dir = await scratch('qcow2-json');
  const basePath = join(dir, 'base.raw');
  await copyFile(join(await imageDir('write-base', [base]), 'base.raw'), basePath);
  const model = await readFile(basePath);
  const name = `json:${JSON.stringify({ driver: 'raw', file: { driver: 'file', filename: basePath } })}`;
  const path = join(dir, 'over.qcow2');
  const dev = await createOverlay(await RawFile.open(basePath), path, { backingName: name });
  await randomWrites(dev, model, 300, 3);
  await dev.close();
  const info = JSON.parse(await run('qemu-img', ['info', '--output=json', path])) as Record<string, unknown>;
  assert.equal(info['backing-filename'], name);
  await verify(path, model, { openBacking: async (n) => (assert.equal(n, name), RawFile.open(basePath)) });
});

const existing: { name: string; steps: Step[]; image: string }[] = [
  { name: 'v2', steps: [base, ['qemu-img', 'convert', '-O', 'qcow2', '-o', 'compat=0.10', 'base.raw', 'img.qcow2']], image: 'img.qcow2' },
  { name: 'compressed', steps: [base, ['qemu-img', 'convert', '-c', '-O', 'qcow2', 'base.raw', 'img.qcow2']], image: 'img.qcow2' },
  { name: 'refcount-bits-1', steps: [base, ['qemu-img', 'convert', '-O', 'qcow2', '-o', 'refcount_bits=1', 'base.raw', 'img.qcow2']], image: 'img.qcow2' },
  {
    name: 'refcount-bits-64-small-clusters',
    steps: [base, ['qemu-img', 'convert', '-c', '-O', 'qcow2', '-o', 'refcount_bits=64,cluster_size=4096', 'base.raw', 'img.qcow2']],
    image: 'img.qcow2',
  },
  {
    name: 'extended-l2',
    steps: [
      base,
      ['qemu-img', 'create', '-f', 'qcow2', '-o', 'extended_l2=on', '-b', 'base.raw', '-F', 'raw', 'img.qcow2'],
      ['qemu-io', '-f', 'qcow2', '-c', 'write -P 0x41 4100k 3k', '-c', 'write -z 130k 6k', '-c', 'write -P 0x42 1M 100k', 'img.qcow2'],
    ],
    image: 'img.qcow2',
  },
  {
    name: 'zero-clusters',
    steps: [
      base,
      ['qemu-img', 'convert', '-O', 'qcow2', 'base.raw', 'img.qcow2'],
      ['qemu-io', '-f', 'qcow2', '-c', 'write -z 64k 128k', '-c', 'write -z -u 1M 256k', '-c', 'discard 2M 192k', 'img.qcow2'],
    ],
    image: 'img.qcow2',
  },
  {
    name: 'chain-top',
    steps: [
      base,
      ['qemu-img', 'create', '-f', 'qcow2', '-b', 'base.raw', '-F', 'raw', 'mid.qcow2', '8M'],
      ['qemu-io', '-f', 'qcow2', '-c', 'write -P 0x55 100k 300k', '-c', 'write -P 0x56 6100k 50k', 'mid.qcow2'],
      ['qemu-img', 'create', '-f', 'qcow2', '-b', 'mid.qcow2', '-F', 'qcow2', 'top.qcow2'],
    ],
    image: 'top.qcow2',
  },
];

for (const c of existing) {
  test(`qcow2 writable open of an existing ${c.name} image`, async () => {
    const from = await imageDir(`write-${c.name}`, c.steps);
    const dir = await scratch(`qcow2-rw-${c.name}`);
    for (const f of ['base.raw', 'mid.qcow2', c.image]) await copyFile(join(from, f), join(dir, f)).catch(() => undefined);
    const path = join(dir, c.image);
    const out = join(dir, 'model.raw');
    await run('qemu-img', ['convert', '-O', 'raw', path, out]);
    const model = await readFile(out);
    const dev = await openDisk(path, { format: 'qcow2', writable: true });
    await randomWrites(dev, model, 800, 10 + c.name.length);
    await dev.close();
    await verify(path, model);
  });
}

test('qcow2 read-only open writes not one byte, even with auto-clear bits set', async () => {
  const from = await imageDir('write-chain-top', existing.find((c) => c.name === 'chain-top')!.steps);
  const dir = await scratch('qcow2-ro');
  for (const f of ['base.raw', 'mid.qcow2', 'top.qcow2']) await copyFile(join(from, f), join(dir, f));
  const path = join(dir, 'top.qcow2');
  await run('qemu-img', ['bitmap', '--add', path, 'b0']);
  const before = await Promise.all(['base.raw', 'mid.qcow2', 'top.qcow2'].map((f) => hashFile(join(dir, f))));
  const dev = await openDisk(path, { format: 'qcow2' });
  assert.equal(dev.canWrite(), false);
  await hashDevice(dev);
  await dev.extents(0n, dev.size);
  await assert.rejects(dev.write(0n, Buffer.from('x')), /device is read-only/);
  await dev.flush();
  await dev.close();
  const after = await Promise.all(['base.raw', 'mid.qcow2', 'top.qcow2'].map((f) => hashFile(join(dir, f))));
  assert.deepEqual(after, before);
});

test('qcow2 writing clears auto-clear bits (bitmaps become inconsistent, data stays right)', async () => {
  const from = await imageDir('write-v2', existing.find((c) => c.name === 'v2')!.steps);
  const dir = await scratch('qcow2-autoclear');
  const path = join(dir, 'img.qcow2');
  await run('qemu-img', ['convert', '-O', 'qcow2', join(from, 'img.qcow2'), path]);
  await run('qemu-img', ['bitmap', '--add', path, 'b0']);
  assert.equal((await readFile(path)).readBigUInt64BE(88), 1n);
  const model = await readFile(join(from, 'base.raw'));
  const dev = await openDisk(path, { format: 'qcow2', writable: true });
  await randomWrites(dev, model, 50, 5);
  await dev.close();
  assert.equal((await readFile(path)).readBigUInt64BE(88), 0n);
  // qemu now ignores the bitmap directory, so its clusters show up as leaks: never corruption.
  const check = await runStatus('qemu-img', ['check', path]);
  assert.equal(check.code, 3, check.stdout + check.stderr);
  assert.doesNotMatch(check.stdout, /ERROR/);
  assert.equal(await qemuRawHash(path), sha(model));
});

test('qcow2 writable open is refused for images with internal snapshots', async () => {
  const dir = await scratch('qcow2-snap');
  const path = join(dir, 'img.qcow2');
  await run('qemu-img', ['create', '-f', 'qcow2', path, '1M']);
  await run('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x11 0 64k', path]);
  await run('qemu-img', ['snapshot', '-c', 's1', path]);
  await run('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x22 0 4k', path]);
  await assert.rejects(openDisk(path, { format: 'qcow2', writable: true }), (e: Error) => {
    assert.equal(e.message, `${path}: cannot open for writing: the image has 1 internal snapshots`);
    return true;
  });
  const dev = await openDisk(path, { format: 'qcow2' });
  assert.equal(await hashDevice(dev), await qemuRawHash(path), 'the active layer still reads');
  await dev.close();
});

test('qcow2 unflushed writes leave a consistent image (a crash can only leak clusters)', async () => {
  const dir = await scratch('qcow2-crash');
  await copyFile(join(await imageDir('write-base', [base]), 'base.raw'), join(dir, 'base.raw'));
  const model = await readFile(join(dir, 'base.raw'));
  const path = join(dir, 'over.qcow2');
  const dev = await createOverlay(await RawFile.open(join(dir, 'base.raw')), path, { backingName: 'base.raw', backingFormat: 'raw' });
  await randomWrites(dev, model, 200, 6);
  await dev.flush();
  const flushed = Buffer.from(model);
  await randomWrites(dev, model, 200, 7);
  // The file as a crash would leave it now: new data clusters written, their metadata not.
  await copyFile(path, join(dir, 'crashed.qcow2'));
  await dev.close();
  const check = await runStatus('qemu-img', ['check', join(dir, 'crashed.qcow2')]);
  assert.ok(check.code === 0 || check.code === 3, `qemu-img check: ${check.stdout}${check.stderr}`);
  assert.doesNotMatch(check.stdout, /ERROR/);
  assert.notEqual(sha(flushed), sha(model));
  await verify(path, model);
});
