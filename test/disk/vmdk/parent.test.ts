/** Snapshot chains: children made by qemu-img create -b, written with qemu-io, read over their parents. */
import assert from 'node:assert/strict';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { FormatNeededError } from '../../../disk/errors.js';
import { openDisk } from '../../../disk/open.js';
import { scratch } from '../../fixtures/cache.js';
import { hashDevice, qemuRawHash, run } from '../../fixtures/run.js';
import { MiB, qemuVmdk, rawSource, varied } from './images.js';

const SIZE = 6 * MiB;

/** A directory with base.vmdk (qemu's monolithicSparse of the usual data) and a child of it. */
async function chain(name: string, subformat: string): Promise<{ dir: string; child: string }> {
  const base = await qemuVmdk('monolithicSparse', await rawSource(`vmdk-src-${SIZE}`, SIZE, varied(SIZE)));
  const dir = await scratch(name);
  await copyFile(base, join(dir, 'base.vmdk'));
  const child = join(dir, 'child.vmdk');
  await run('qemu-img', ['create', '-q', '-f', 'vmdk', '-o', `subformat=${subformat}`, '-b', 'base.vmdk', '-F', 'vmdk', child]);
  // Overwrite part of an allocated base grain, a hole of the base, and the last grain.
  await run('qemu-io', ['-f', 'vmdk', '-c', 'write -P 0x77 32k 8k', '-c', 'write -P 0x11 2M 100k', '-c', `write -P 0x22 ${SIZE - 65536} 64k`, child]);
  return { dir, child };
}

for (const subformat of ['monolithicSparse', 'twoGbMaxExtentSparse']) {
  test(`vmdk parent: a ${subformat} child reads unwritten grains from its parent`, async () => {
    const { child } = await chain(`vmdk-parent-${subformat}`, subformat);
    const dev = await openDisk(child, { format: 'vmdk' });
    assert.equal(await hashDevice(dev), await qemuRawHash(child));
    // Grain 0 was copied up by the write; grain 1 (base data) is a hole here that does not read as zeros.
    assert.deepEqual(await dev.extents(0n, 131072n), [
      { offset: 0n, length: 65536n, hole: false, zero: false },
      { offset: 65536n, length: 65536n, hole: true, zero: false },
    ]);
    await dev.close();
  });
}

test('vmdk parent: a parent whose CID is not the one the child expects is refused', async () => {
  const { child } = await chain('vmdk-parent-cid', 'twoGbMaxExtentSparse');
  const text = (await readFile(child, 'latin1')).replace(/parentCID=[0-9a-f]+/, 'parentCID=0badc1d0');
  await writeFile(child, text, 'latin1');
  await assert.rejects(openDisk(child, { format: 'vmdk' }), (e: Error) => {
    assert.match(e.message, new RegExp(`^${child}: VMDK parent "base.vmdk" has CID [0-9a-f]{8}, but this disk was written against parentCID 0badc1d0$`));
    return true;
  });
});

test('vmdk parent: a missing parent and a chain that loops are refused', async () => {
  const { dir, child } = await chain('vmdk-parent-loop', 'twoGbMaxExtentSparse');
  const text = await readFile(child, 'latin1');
  await writeFile(child, text.replace('parentFileNameHint="base.vmdk"', 'parentFileNameHint="gone.vmdk"'), 'latin1');
  const gone = join(dir, 'gone.vmdk');
  await assert.rejects(openDisk(child, { format: 'vmdk' }), { message: `${child}: cannot open VMDK parent "gone.vmdk": ${gone}: cannot open: ENOENT: no such file or directory, open '${gone}'`, code: 'ENOENT' });
  await writeFile(child, text.replace('parentFileNameHint="base.vmdk"', 'parentFileNameHint="child.vmdk"'), 'latin1');
  await assert.rejects(openDisk(child, { format: 'vmdk' }), { message: `${child}: cannot open VMDK parent "child.vmdk": ${child}: backing chain loops: ${child} -> ${child}` });
});

test('vmdk parent: a probed image does not open the parent it names', async () => {
  const { child } = await chain('vmdk-parent-probed', 'monolithicSparse');
  await assert.rejects(openDisk(child), (e: Error & { code?: string }) => {
    assert.equal(e.message, `${child}: cannot open VMDK parent "base.vmdk": ${child}: names a backing file ("base.vmdk"), but its format was only probed: backing files are opened only when the format (vmdk) is given`);
    assert.equal(e.code, 'EPERM');
    // The tools find the format to suggest (--format=vmdk) on the cause.
    assert.ok(e.cause instanceof FormatNeededError && e.cause.format === 'vmdk');
    return true;
  });
});

test('vmdk parent: parentCID=ffffffff means no parent, even with --format and a parentFileNameHint', async () => {
  const { child } = await chain('vmdk-parent-none', 'twoGbMaxExtentSparse');
  const text = (await readFile(child, 'latin1')).replace(/parentCID=[0-9a-f]+/, 'parentCID=ffffffff');
  // The hint now names a file that must not be opened: were it opened, the read would fail.
  await writeFile(child, text.replace('parentFileNameHint="base.vmdk"', 'parentFileNameHint="gone.vmdk"'), 'latin1');
  const dev = await openDisk(child, { format: 'vmdk' });
  // Without its parent, the child's unwritten grains read as zeros: grain 1 is a hole.
  assert.deepEqual(await dev.extents(65536n, 65536n), [{ offset: 65536n, length: 65536n, hole: true, zero: true }]);
  assert.ok((await dev.read(65536n, 65536)).every((b) => b === 0));
  await dev.close();
});
