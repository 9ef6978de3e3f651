/** `-i disk`: images of any format, named after the first, with libguestfs's defaults. */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fixture } from '../../fixtures/cache.js';
import { hashDevice, qemuRawHash, run } from '../../fixtures/run.js';
import { openInput } from '../../../v2v/input/open.js';
import { MiB, rawSource, varied } from '../../disk/vmdk/images.js';

const opts = { warn: (m: string) => assert.fail(`unexpected warning: ${m}`) };

/** A directory with fedora.qcow2 and data-sdb.raw, both from the usual varied data. */
async function images(): Promise<{ qcow2: string; raw: string }> {
  const src = await rawSource(`v2v-disk-src`, 6 * MiB, varied(6 * MiB));
  const dir = await fixture('v2v-disk', `qemu-img convert -O qcow2 ${src} fedora.qcow2; cp data-sdb.raw`, async (path) => {
    await mkdir(path);
    await run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', src, join(path, 'fedora.qcow2')]);
    await run('cp', ['--sparse=always', src, join(path, 'data-sdb.raw')]);
  });
  return { qcow2: join(dir, 'fedora.qcow2'), raw: join(dir, 'data-sdb.raw') };
}

test('-i disk: the guest is named after the first image, with 2 GiB, 1 vCPU, one NIC on "default"', async () => {
  const { qcow2, raw } = await images();
  const source = await openInput('disk', [qcow2, raw], opts);
  assert.equal(source.name, 'fedora');
  assert.equal(source.memory, 2n * 1024n * 1024n * 1024n);
  assert.equal(source.vcpus, 1);
  assert.equal(source.firmware, 'unknown');
  assert.deepEqual(source.cdroms, []);
  assert.deepEqual(source.nics, [{ network: 'default', vnetType: 'network' }]);
  assert.deepEqual(
    source.disks.map((d) => [d.name, d.bus]),
    [
      [qcow2, undefined],
      [raw, undefined],
    ],
  );
  for (const disk of source.disks) {
    const dev = await disk.open();
    try {
      assert.equal(await hashDevice(dev), await qemuRawHash(disk.name));
    } finally {
      await dev.close();
    }
  }
  await source.close();
  // One suffix comes off, as libguestfs does it: ".raw", then no more.
  assert.equal((await openInput('disk', [raw], opts)).name, 'data-sdb');
});

test('-i disk: -if forces the format: a qcow2 read as raw is the file itself', async () => {
  const { qcow2 } = await images();
  const source = await openInput('disk', [qcow2], { ...opts, format: 'raw' });
  const dev = await source.disks[0]!.open();
  assert.equal(dev.size, BigInt(statSync(qcow2).size)); // raw: the qcow2 file itself
  await dev.close();
});

test('-i disk: a missing image and no image at all are clear errors', async () => {
  const missing = join(await fixture('v2v-disk-none', 'empty dir', (p) => mkdir(p)), 'gone.qcow2');
  await assert.rejects(openInput('disk', [missing], opts), { name: 'InputError', message: `${missing}: cannot read: ENOENT: no such file or directory, access '${missing}'` });
  await assert.rejects(openInput('disk', [], opts), { message: '-i disk: expecting a disk image (filename) on the command line' });
});
