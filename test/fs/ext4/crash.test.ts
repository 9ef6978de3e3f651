import assert from 'node:assert/strict';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { BaseDevice, type BlockDevice } from '../../../disk/block-device.js';
import { DiskError } from '../../../disk/errors.js';
import { RawFile } from '../../../disk/raw.js';
import { ext4Driver } from '../../../fs/ext4/driver.js';
import type { Filesystem } from '../../../fs/filesystem.js';
import { readFile, resolvePath } from '../../../fs/path.js';
import { scratch } from '../../fixtures/cache.js';
import { run, runStatus } from '../../fixtures/run.js';

/** A device that "loses power" after `limit` writes: later writes fail and change nothing. */
class CrashingDevice extends BaseDevice {
  writes = 0;
  constructor(
    private readonly inner: BlockDevice,
    private readonly limit: number,
  ) {
    super();
  }
  get name(): string {
    return this.inner.name;
  }
  get size(): bigint {
    return this.inner.size;
  }
  override canWrite(): boolean {
    return true;
  }
  protected _read(offset: bigint, length: number): Promise<Buffer> {
    return this.inner.read(offset, length);
  }
  protected override async _write(offset: bigint, data: Uint8Array): Promise<void> {
    if (++this.writes > this.limit) throw new DiskError(this.name, 'power lost', offset);
    await this.inner.write(offset, data);
  }
}

/**
 * The operations interrupted at every write, in three journal transactions: data committed
 * before them must survive, and each fsync that returned must have made its batch durable.
 * Returns how many fsyncs returned.
 */
async function workload(fs: Filesystem, done: { fsyncs: number }): Promise<void> {
  const d = await fs.mkdir(fs.rootIno, 'd', 0o755, 0, 0);
  const f = await fs.create(d.ino, 'new', 0o644, 0, 0);
  await fs.write(f.ino, 0, Buffer.alloc(20000, 3));
  await fs.fsync();
  done.fsyncs++;
  await fs.rename(d.ino, 'new', fs.rootIno, 'moved');
  await fs.unlink(fs.rootIno, 'old');
  await fs.fsync();
  done.fsyncs++;
  await fs.setxattr(f.ino, 'user.x', Buffer.from('y'), 0);
  await fs.truncate(f.ino, 100);
  await fs.fsync();
  done.fsyncs++;
}

test('ext4 crash safety: cut at a spread of writes of a journaled workload, replay leaves e2fsck clean, fsync\'d batches whole', async () => {
  const dir = await scratch('ext4-crash');
  const base = join(dir, 'base.img');
  await run('truncate', ['-s', '16M', base]);
  await run('mkfs.ext4', ['-q', '-F', '-b', '1024', base]);
  {
    const dev = await RawFile.open(base, true);
    const fs = await ext4Driver.open(dev, { writable: true });
    const keep = await fs.create(fs.rootIno, 'keep', 0o644, 0, 0);
    await fs.write(keep.ino, 0, Buffer.from('committed data'));
    const old = await fs.create(fs.rootIno, 'old', 0o644, 0, 0);
    await fs.write(old.ino, 0, Buffer.alloc(5000, 1));
    await fs.fsync();
    await fs.close();
    await dev.close();
  }
  // Count the writes of the whole workload, then cut it short at a spread of points.
  const probe = join(dir, 'probe.img');
  await copyFile(base, probe);
  const pdev = await RawFile.open(probe, true);
  const counter = new CrashingDevice(pdev, Infinity);
  await workload(await ext4Driver.open(counter, { writable: true }), { fsyncs: 0 });
  await pdev.close();
  const total = counter.writes;
  assert.ok(total > 20, `workload made ${total} writes`);
  const step = Math.max(1, Math.floor(total / 25));
  for (let cut = 0; cut < total; cut += step) {
    const img = join(dir, `cut-${cut}.img`);
    await copyFile(base, img);
    const raw = await RawFile.open(img, true);
    const fs = await ext4Driver.open(new CrashingDevice(raw, cut), { writable: true }).catch(() => null);
    const done = { fsyncs: 0 };
    if (fs) await workload(fs, done).catch(() => undefined);
    await raw.close();
    const fix = await runStatus('e2fsck', ['-fy', img]);
    assert.ok(fix.code < 4, `cut after ${cut} of ${total} writes: e2fsck -fy failed (${fix.code}):\n${fix.stdout}`);
    // The journal's replay is all it needs: nothing to repair.
    assert.doesNotMatch(fix.stdout, /\? yes$/m, `cut after ${cut} of ${total} writes: e2fsck repaired more than a replay:\n${fix.stdout}`);
    const clean = await runStatus('e2fsck', ['-fn', img]);
    assert.equal(clean.code, 0, `cut after ${cut}: not clean after repair:\n${clean.stdout}`);
    const ro = await RawFile.open(img);
    const rfs = await ext4Driver.open(ro);
    assert.equal((await readFile(rfs, '/keep')).toString(), 'committed data', `cut after ${cut}: committed file lost`);
    // Whatever state "old" is in, it is either the whole old file or gone.
    const old = await resolvePath(rfs, '/old').catch(() => null);
    if (old) assert.deepEqual(await readFile(rfs, '/old'), Buffer.alloc(5000, 1));
    // Each transaction is all or nothing, and there once its fsync returned.
    const moved = await resolvePath(rfs, '/moved').catch(() => null);
    const fresh = await resolvePath(rfs, '/d/new').catch(() => null);
    assert.ok(!(moved && fresh), `cut after ${cut}: the file is both moved and not`);
    assert.equal(moved !== null, old === null, `cut after ${cut}: the rename and the unlink are not one transaction`);
    if (done.fsyncs >= 1) assert.ok(moved ?? fresh, `cut after ${cut}: the first fsync returned but the file is gone`);
    if (done.fsyncs >= 2) assert.ok(moved, `cut after ${cut}: the second fsync returned but the rename is lost`);
    const file = moved ?? fresh;
    if (file) {
      const data = await readFile(rfs, moved ? '/moved' : '/d/new');
      assert.ok(data.length === 20000 || data.length === 100, `cut after ${cut}: the file is ${data.length} bytes`);
      assert.deepEqual(data, Buffer.alloc(data.length, 3));
    }
    await ro.close();
  }
});
