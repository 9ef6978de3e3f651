/** The copy of an overlay to raw and qcow2 targets, sparse and preallocated, checked with qemu-img. */
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { BlockDevice } from '../../disk/block-device.js';
import { applyFilters } from '../../disk/filters/stack.js';
import { openDisk } from '../../disk/open.js';
import { createOverlay } from '../../disk/qcow2/create.js';
import { copyDisk } from '../../v2v/copy.js';
import { createTarget } from '../../v2v/output/target.js';
import { fixture, scratch } from '../fixtures/cache.js';
import { hashFile, run, runStatus } from '../fixtures/run.js';
import { MiB, rawSource, varied } from '../disk/vmdk/images.js';

const SIZE = 16 * MiB;

/** A qcow2 source with the usual varied data (its gaps are unallocated clusters). */
async function sourceImage(): Promise<string> {
  const raw = await rawSource('v2v-copy-src', SIZE, varied(SIZE));
  const dir = await fixture('v2v-copy', `qemu-img convert -O qcow2 ${raw}`, async (path) => {
    await run('mkdir', [path]);
    await run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, join(path, 'src.qcow2')]);
  });
  return join(dir, 'src.qcow2');
}

/** An overlay over the source with a converter's kind of changes: new data, and zeros over old data. */
async function changedOverlay(src: string, dir: string): Promise<{ overlay: BlockDevice; path: string }> {
  const path = join(dir, 'overlay.qcow2');
  const overlay = await createOverlay(await openDisk(src, { format: 'qcow2' }), path, { backingName: src, backingFormat: 'qcow2' });
  await overlay.write(2n * BigInt(MiB) + 100n, Buffer.alloc(MiB, 'converted '));
  await overlay.write(0n, Buffer.alloc(64 * 1024));
  await overlay.write(BigInt(SIZE - 512), Buffer.alloc(512, 0xee));
  await overlay.flush();
  return { overlay, path };
}

for (const format of ['raw', 'qcow2'] as const) {
  for (const allocation of ['sparse', 'preallocated'] as const) {
    test(`copy: ${format} ${allocation} target reads as the overlay (qemu-img compare), the source is unchanged`, async () => {
      const src = await sourceImage();
      const before = await hashFile(src);
      const dir = await scratch(`v2v-copy-${format}-${allocation}`);
      const { overlay, path } = await changedOverlay(src, dir);
      const target = join(dir, `target.${format}`);
      const dst = await createTarget(target, format, overlay.size);
      const done: bigint[] = [];
      const result = await copyDisk(overlay, dst, { allocate: allocation === 'preallocated', requests: 4, progress: (n) => done.push(n) });
      await dst.flush();
      await dst.close();
      await overlay.close();

      const cmp = await runStatus('qemu-img', ['compare', '-f', 'qcow2', '-F', format, path, target]);
      assert.equal(cmp.code, 0, `qemu-img compare: ${cmp.stdout}${cmp.stderr}`);
      if (format === 'qcow2') await run('qemu-img', ['check', target]);
      assert.equal(await hashFile(src), before, 'the source image was written');
      // Progress only grows, and ends at the disk's size.
      assert.deepEqual(done, [...done].sort((a, b) => (a < b ? -1 : 1)));
      assert.equal(done.at(-1), overlay.size);
      // The source's unallocated clusters were never read.
      assert.ok(result.read < overlay.size / 2n, `read ${result.read} of ${overlay.size} bytes`);

      const st = await stat(target);
      const allocated = st.blocks * 512;
      if (allocation === 'sparse') {
        assert.ok(allocated < SIZE / 4, `${allocated} bytes allocated of ${SIZE}`);
        assert.ok(result.written < BigInt(SIZE / 4));
      } else {
        assert.ok(allocated >= SIZE, `${allocated} bytes allocated of ${SIZE}`);
        assert.equal(result.written, BigInt(SIZE));
      }
    });
  }
}

test('copy: a failing source read rejects the copy with its error once every request has stopped', async () => {
  const src = await sourceImage();
  const dir = await scratch('v2v-copy-fail');
  const dev = applyFilters(await openDisk(src, { format: 'qcow2' }), ['error:ops=read,rate=100%,message=bad sector']);
  const dst = await createTarget(join(dir, 'target.raw'), 'raw', dev.size);
  try {
    await assert.rejects(copyDisk(dev, dst), /bad sector/);
  } finally {
    await dst.close();
    await dev.close();
  }
});

test('copy: a target smaller than the disk is refused before anything is written', async () => {
  const src = await sourceImage();
  const dir = await scratch('v2v-copy-small');
  const dev = await openDisk(src, { format: 'qcow2' });
  const dst = await createTarget(join(dir, 'small.raw'), 'raw', dev.size - 512n);
  try {
    await assert.rejects(copyDisk(dev, dst), /smaller than/);
    assert.equal((await stat(join(dir, 'small.raw'))).blocks, 0);
  } finally {
    await dst.close();
    await dev.close();
  }
});

test('copy: zero runs inside data a raw source reads are not written (64 KiB pieces), to raw and qcow2 targets alike', async () => {
  // Node sees no holes in a raw file: every byte is read, and the zeros found are skipped.
  const size = 4 * MiB;
  const raw = await rawSource('v2v-copy-zeros-inside', size, [
    { at: 1000, data: Buffer.alloc(3000, 0x11) },
    { at: MiB + 65536, data: Buffer.alloc(1, 0x22) },
    { at: 2 * MiB - 10, data: Buffer.alloc(20, 0x33) },
  ]);
  for (const format of ['raw', 'qcow2'] as const) {
    const dir = await scratch(`v2v-copy-zeros-inside-${format}`);
    const src = await openDisk(raw, { format: 'raw' });
    const target = join(dir, `target.${format}`);
    const dst = await createTarget(target, format, src.size);
    const result = await copyDisk(src, dst);
    await dst.flush();
    await dst.close();
    await src.close();
    assert.equal(result.read, BigInt(size), 'a raw source is read whole');
    // Four 64 KiB pieces hold data: at 0, at 1 MiB + 64 KiB, and either side of 2 MiB.
    assert.equal(result.written, 4n * 65536n);
    const cmp = await runStatus('qemu-img', ['compare', '-f', 'raw', '-F', format, raw, target]);
    assert.equal(cmp.code, 0, `qemu-img compare: ${cmp.stdout}${cmp.stderr}`);
    const map = JSON.parse(await run('qemu-img', ['map', '--output=json', '-f', format, target])) as { start: number; length: number; data: boolean }[];
    // Neighbouring guest ranges merged: qemu-img lists them apart when their host clusters are.
    const data: number[][] = [];
    for (const m of map.filter((e) => e.data)) {
      const last = data[data.length - 1];
      if (last && last[0]! + last[1]! === m.start) last[1]! += m.length;
      else data.push([m.start, m.length]);
    }
    assert.deepEqual(data, [[0, 65536], [MiB + 65536, 65536], [2 * MiB - 65536, 131072]], `${format} target's allocated ranges`);
  }
});
