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

/** The operations interrupted at every write: data committed before them must survive. */
async function workload(fs: Filesystem): Promise<void> {
  const d = await fs.mkdir(fs.rootIno, 'd', 0o755, 0, 0);
  const f = await fs.create(d.ino, 'new', 0o644, 0, 0);
  await fs.write(f.ino, 0, Buffer.alloc(20000, 3));
  await fs.rename(d.ino, 'new', fs.rootIno, 'moved');
  await fs.unlink(fs.rootIno, 'old');
  await fs.setxattr(f.ino, 'user.x', Buffer.from('y'), 0);
  await fs.truncate(f.ino, 100);
}

test('ext4 crash safety: cut at every write of a workload, e2fsck repairs it and committed data survives', async () => {
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
  await workload(await ext4Driver.open(counter, { writable: true }));
  await pdev.close();
  const total = counter.writes;
  assert.ok(total > 20, `workload made ${total} writes`);
  const step = Math.max(1, Math.floor(total / 25));
  for (let cut = 0; cut < total; cut += step) {
    const img = join(dir, `cut-${cut}.img`);
    await copyFile(base, img);
    const raw = await RawFile.open(img, true);
    const fs = await ext4Driver.open(new CrashingDevice(raw, cut), { writable: true }).catch(() => null);
    if (fs) await workload(fs).catch(() => undefined);
    await raw.close();
    const fix = await runStatus('e2fsck', ['-fy', img]);
    assert.ok(fix.code < 4, `cut after ${cut} of ${total} writes: e2fsck -fy failed (${fix.code}):\n${fix.stdout}`);
    const clean = await runStatus('e2fsck', ['-fn', img]);
    assert.equal(clean.code, 0, `cut after ${cut}: not clean after repair:\n${clean.stdout}`);
    const ro = await RawFile.open(img);
    const rfs = await ext4Driver.open(ro);
    assert.equal((await readFile(rfs, '/keep')).toString(), 'committed data', `cut after ${cut}: committed file lost`);
    // Whatever state "old" is in, it is either the whole old file or gone.
    const old = await resolvePath(rfs, '/old').catch(() => null);
    if (old) assert.deepEqual(await readFile(rfs, '/old'), Buffer.alloc(5000, 1));
    await ro.close();
  }
});
