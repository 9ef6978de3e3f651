import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { prngInt } from '../../../../disk/filters/prng.js';
import { InitramfsError } from '../../../../v2v/convert/linux/initramfs-error.js';
import { readInitramfs } from '../../../../v2v/convert/linux/initramfs.js';
import { scratch } from '../../../fixtures/cache.js';
import { run } from '../../../fixtures/run.js';
import { buildInitramfs, type InitramfsCompression, type InitramfsSpec } from '../../images/initramfs.js';

const VERSION = '6.1.0-13-amd64';
let dir: string;
before(async () => {
  dir = await scratch('initramfs');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Build one, and what `find` lists in the trees cpio packed (its ground truth). */
async function build(name: string, spec: Partial<InitramfsSpec>): Promise<{ path: string; data: Buffer; names: string[] }> {
  const path = join(dir, name);
  const work = join(dir, `${name}.d`);
  await buildInitramfs({ version: VERSION, compression: 'gzip', modules: ['virtio_blk', 'ext4'], ...spec }, path, work);
  const names: string[] = [];
  for (const tree of spec.earlyMicrocode ? ['early', 'main'] : ['main']) {
    const listed = await run('sh', ['-c', `cd '${join(work, tree)}' && find . | LC_ALL=C sort`]);
    names.push(...listed.trim().split('\n').map((n) => n.replace(/^\.\//, '')));
  }
  return { path, data: await readFile(path), names };
}

for (const compression of ['none', 'gzip', 'xz', 'zstd'] as InitramfsCompression[]) {
  for (const earlyMicrocode of [false, true]) {
    test(`initramfs: ${earlyMicrocode ? 'early microcode cpio, then ' : ''}${compression === 'none' ? 'an uncompressed' : `a ${compression}`} archive: every member cpio packed`, async () => {
      const suffix = compression === 'zstd' ? '.ko.zst' : compression === 'xz' ? '.ko.xz' : '.ko';
      const b = await build(`${compression}-${earlyMicrocode}`, { compression, earlyMicrocode, moduleSuffix: suffix, builtin: ['kernel/drivers/virtio/virtio_pci.ko'] });
      const got = await readInitramfs(b.data, b.path);
      assert.deepEqual(got.names, b.names);
      assert.ok(got.names.includes(`usr/lib/modules/${VERSION}/kernel/drivers/block/virtio_blk${suffix}`));
      assert.deepEqual(got.layers, [...(earlyMicrocode ? ['cpio'] : []), compression === 'none' ? 'cpio' : compression]);
      assert.deepEqual([...got.builtin], [[`usr/lib/modules/${VERSION}/modules.builtin`, 'kernel/drivers/virtio/virtio_pci.ko\n']]);
    });
  }
}

test('initramfs: after a zstd stream, padding and a further archive are read too, as the kernel does', async () => {
  const plain = await build('after-plain', { compression: 'none', modules: ['virtio_net'] });
  for (const compression of ['zstd'] as InitramfsCompression[]) {
    const b = await build(`after-${compression}`, { compression, earlyMicrocode: true });
    const got = await readInitramfs(Buffer.concat([b.data, Buffer.alloc(512), plain.data]), b.path);
    assert.deepEqual(got.layers, ['cpio', compression, 'cpio']);
    assert.deepEqual(got.names, [...b.names, ...plain.names]);
  }
});

test('initramfs: lz4 (legacy frame) is refused by name at the offset of its stream', async () => {
  const b = await build('lz4', { compression: 'lz4', earlyMicrocode: true });
  // cpio pads the early archive to 512-byte blocks: the lz4 stream starts after them.
  const earlySize = b.data.indexOf(Buffer.from([0x02, 0x21, 0x4c, 0x18]));
  assert.ok(earlySize > 0 && earlySize % 512 === 0);
  await assert.rejects(readInitramfs(b.data, b.path), (e: Error) => {
    assert.ok(e instanceof InitramfsError);
    assert.equal(e.message, `${b.path}: lz4 stream at offset ${earlySize}: lz4 compression is not supported: the initramfs cannot be looked into`);
    return true;
  });
});

for (const compression of ['gzip', 'xz', 'zstd'] as InitramfsCompression[]) {
  test(`initramfs: a ${compression} stream decompressing past the cap is refused before it is all made`, async () => {
    const b = await build(`cap-${compression}`, { compression, earlyMicrocode: true });
    const size = (await run('bash', ['-c', `set -o pipefail; ${compression === 'gzip' ? 'gzip' : compression} -dc < <(tail -c +${b.data.indexOf(compression === 'gzip' ? Buffer.from([0x1f, 0x8b]) : compression === 'xz' ? Buffer.from([0xfd, 0x37, 0x7a]) : Buffer.from([0x28, 0xb5, 0x2f, 0xfd])) + 1} '${b.path}') | wc -c`])).trim();
    const cap = Number(size) - 1;
    await assert.rejects(readInitramfs(b.data, b.path, cap), new RegExp(`${compression} stream at offset \\d+: decompresses to more than ${cap} bytes`));
    assert.equal((await readInitramfs(b.data, b.path, cap + 1)).layers.at(-1), compression);
  });
}

test('initramfs: damage is an InitramfsError naming the file, the structure and the offset', async () => {
  const b = await build('plain', { compression: 'none' });
  const where = b.path;
  await assert.rejects(readInitramfs(b.data.subarray(0, 300), where), /: cpio (data|name|header) at offset \d+: (truncated|size \d+ passes the end)/);
  const badHex = Buffer.from(b.data);
  badHex.write('zz', 6 + 6 * 8, 'latin1');
  await assert.rejects(readInitramfs(badHex, where), { message: `${where}: cpio header at offset 0: field 6 is not hex: "zz${b.data.toString('latin1', 56, 62)}"` });
  const longName = Buffer.from(b.data);
  longName.write('00010000', 6 + 11 * 8, 'latin1');
  await assert.rejects(readInitramfs(longName, where), { message: `${where}: cpio header at offset 0: name size 65536 is outside 1..4096` });
  await assert.rejects(readInitramfs(Buffer.from('hello, not an initramfs'), where), { message: `${where}: archive at offset 0: neither a cpio archive nor a known compressed stream` });
  // A zstd frame asking for a 2 GiB window is refused before fzstd would allocate it.
  const hugeWindow = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xa8, 0x01, 0x00, 0x00]);
  await assert.rejects(readInitramfs(hugeWindow, where), { message: `${where}: zstd frame at offset 0: window of 2147483648 bytes is more than the 134217728 zstd decoders accept` });
  await assert.rejects(readInitramfs(hugeWindow.subarray(0, 7), where), { message: `${where}: zstd frame at offset 6: truncated block header` });
  const xz = await build('xz-trailing', { compression: 'xz' });
  await assert.rejects(readInitramfs(Buffer.concat([xz.data, Buffer.from('garbage!')]), where), /xz index at offset \d+: no xz stream footer magic/);
});

test('initramfs: 300 randomly damaged images (fixed seed) read or fail with an InitramfsError, never anything else', async () => {
  const images = [await build('fz-none', { compression: 'none', earlyMicrocode: true }), await build('fz-gz', { compression: 'gzip' }),
    await build('fz-xz', { compression: 'xz' }), await build('fz-zst', { compression: 'zstd', earlyMicrocode: true })];
  const rand = prngInt(12);
  let failed = 0;
  for (let i = 0; i < 300; i++) {
    const b = images[i % images.length]!;
    const data = Buffer.from(b.data);
    for (let n = 1 + rand(4); n > 0; n--) {
      const at = rand(data.length);
      data[at] = data[at]! ^ (1 + rand(255));
    }
    try {
      await readInitramfs(data, b.path, 64 << 20);
    } catch (e) {
      assert.ok(e instanceof InitramfsError, `${b.path} damaged #${i}: ${(e as Error).stack}`);
      failed++;
    }
  }
  assert.ok(failed > 30, `only ${failed} of 300 damaged images failed`);
});
