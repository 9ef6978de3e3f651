import assert from 'node:assert/strict';
import { copyFile, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { openDisk } from '../../../disk/open.js';
import { scratch } from '../../fixtures/cache.js';
import { assertReadFails, hashDevice, qemuRawHash, run } from '../../fixtures/run.js';
import { imageDir } from './images.js';
import { patch } from '../../fixtures/patch.js';

const MiB = 1 << 20;

/** A private copy of a small v3 image with data in its first clusters, and its layout. */
async function victim(name: string) {
  const dir = await imageDir('corrupt-base', [
    ['raw', 'base.raw', String(2 * MiB), String(MiB), '7'],
    ['qemu-img', 'convert', '-O', 'qcow2', 'base.raw', 'img.qcow2'],
  ]);
  const path = join(await scratch(`qcow2-${name}`), 'img.qcow2');
  await copyFile(join(dir, 'img.qcow2'), path);
  const bytes = await readFile(path);
  const l1 = Number(bytes.readBigUInt64BE(40));
  const l2 = Number(bytes.readBigUInt64BE(l1) & 0x00fffffffffffe00n);
  const data0 = Number(bytes.readBigUInt64BE(l2) & 0x00fffffffffffe00n);
  return { path, size: bytes.length, l1, l2, data0 };
}

const u32 = (v: number) => Buffer.from([v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255]);
const u64 = (v: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(v);
  return b;
};

/** Open and read the whole device, expecting the exact error message. */
function expectError(path: string, message: string): Promise<void> {
  return assertReadFails(path, message, { format: 'qcow2' });
}

test('qcow2 corrupt: a file too short for the header', async () => {
  const path = join(await scratch('qcow2-short'), 'short.qcow2');
  await writeFile(path, Buffer.concat([Buffer.from('QFI\xfb', 'latin1'), Buffer.alloc(46)]));
  await expectError(path, `${path}: file of 50 bytes is too small for a qcow2 header (72 bytes) (at byte 0)`);
});

test('qcow2 corrupt: truncated before the L1 table', async () => {
  const v = await victim('trunc-l1');
  await truncate(v.path, v.l1 - 1000);
  await expectError(v.path, `${v.path}: qcow2 header: L1 table (8 bytes at ${v.l1}) extends past the end of the file (${v.l1 - 1000} bytes) (at byte 40)`);
});

test('qcow2 corrupt: truncated inside the data clusters', async () => {
  const v = await victim('trunc-data');
  const cut = v.data0 + 1000;
  await truncate(v.path, cut);
  await expectError(v.path, `${v.path}: L2 entry 0 of the L2 table at ${v.l2} points to ${v.data0}, past the end of the file (${cut} bytes) (at byte ${v.l2})`);
});

test('qcow2 corrupt: L1 entry pointing past the end of the file', async () => {
  const v = await victim('l1-eof');
  await patch(v.path, v.l1, u64(0x8000000040000000n));
  await expectError(v.path, `${v.path}: L1 entry 0 points to an L2 table at ${2 ** 30}, past the end of the file (${v.size} bytes) (at byte ${v.l1})`);
});

test('qcow2 corrupt: L2 entry pointing past the end of the file', async () => {
  const v = await victim('l2-eof');
  await patch(v.path, v.l2 + 8, u64(0x8000000100000000n));
  await expectError(v.path, `${v.path}: L2 entry 1 of the L2 table at ${v.l2} points to ${2 ** 32}, past the end of the file (${v.size} bytes) (at byte ${v.l2 + 8})`);
});

test('qcow2 corrupt: a compressed cluster that does not inflate', async () => {
  const dir = await imageDir('corrupt-compressed', [
    ['raw', 'base.raw', String(MiB), String(MiB), '8'],
    ['qemu-img', 'convert', '-c', '-O', 'qcow2', 'base.raw', 'img.qcow2'],
  ]);
  const path = join(await scratch('qcow2-bad-deflate'), 'img.qcow2');
  await copyFile(join(dir, 'img.qcow2'), path);
  const bytes = await readFile(path);
  const l2 = Number(bytes.readBigUInt64BE(Number(bytes.readBigUInt64BE(40))) & 0x00fffffffffffe00n);
  const entry = bytes.readBigUInt64BE(l2);
  assert.equal(entry >> 62n, 1n, 'first cluster is compressed');
  const at = Number(entry & ((1n << 54n) - 1n)); // 64 KiB clusters: offset is bits 0-53
  await patch(path, at, Buffer.alloc(64, 0xff));
  await assert.rejects(
    (async () => {
      const dev = await openDisk(path, { format: 'qcow2' });
      await dev.read(0n, 4096).finally(() => dev.close());
    })(),
    (e: Error) => {
      assert.match(e.message, new RegExp(`^${path}: compressed cluster does not inflate: .* \\(at byte ${at}\\)$`));
      return true;
    },
  );
});

test('qcow2 corrupt: a backing chain that loops (rebase -u)', async () => {
  const dir = await scratch('qcow2-loop');
  await run('qemu-img', ['create', '-f', 'qcow2', join(dir, 'b.qcow2'), '1M']);
  await run('qemu-img', ['create', '-f', 'qcow2', '-b', 'b.qcow2', '-F', 'qcow2', join(dir, 'a.qcow2')]);
  await run('qemu-img', ['rebase', '-u', '-b', 'a.qcow2', '-F', 'qcow2', join(dir, 'b.qcow2')]);
  const [a, b] = [join(dir, 'a.qcow2'), join(dir, 'b.qcow2')];
  await expectError(a, `${a}: backing chain loops: ${a} -> ${b} -> ${a}`);
});

test('qcow2: an image whose format was only probed opens no backing file', async () => {
  const dir = await scratch('qcow2-probed');
  await run('qemu-img', ['create', '-f', 'raw', join(dir, 'secret.raw'), '1M']);
  await run('qemu-img', ['create', '-f', 'qcow2', '-b', 'secret.raw', '-F', 'raw', join(dir, 'top.qcow2')]);
  const top = join(dir, 'top.qcow2');
  await assert.rejects(openDisk(top), {
    message: `${top}: names a backing file ("secret.raw"), but its format was only probed: backing files are opened only when the format (qcow2) is given`,
    code: 'EPERM',
  });
  const dev = await openDisk(top, { format: 'qcow2' });
  assert.equal(dev.size, 1n << 20n);
  await dev.close();
});

test('qcow2 corrupt: an unknown incompatible feature bit', async () => {
  const v = await victim('incompat');
  await patch(v.path, 72, u64(1n << 37n));
  await expectError(v.path, `${v.path}: qcow2 header: unknown incompatible feature bits 0x2000000000 (at byte 72)`);
});

test('qcow2 corrupt: an external data file is refused', async () => {
  const dir = await scratch('qcow2-datafile');
  const path = join(dir, 'img.qcow2');
  await run('qemu-img', ['create', '-f', 'qcow2', '-o', 'data_file=data.raw', 'img.qcow2', '1M'], { cwd: dir });
  await expectError(path, `${path}: qcow2 header: the image keeps its data in an external data file "data.raw", which is not supported (at byte 72)`);
});

test('qcow2 corrupt: zstd compression is refused', async () => {
  const path = join(await scratch('qcow2-zstd'), 'img.qcow2');
  await run('qemu-img', ['create', '-f', 'qcow2', '-o', 'compression_type=zstd', path, '1M']);
  await expectError(path, `${path}: qcow2 header: compression type 1 (zstd) is not supported, only zlib (at byte 104)`);
});

test('qcow2 corrupt: absurd cluster_bits', async () => {
  const v = await victim('cluster-bits');
  await patch(v.path, 20, u32(30));
  await expectError(v.path, `${v.path}: qcow2 header: cluster_bits 30 is outside 9..21 (at byte 20)`);
});

test('qcow2 corrupt: a huge l1_size is refused before any allocation', async () => {
  const v = await victim('l1-huge');
  await patch(v.path, 36, u32(0xffffffff));
  await expectError(v.path, `${v.path}: qcow2 header: l1_size 4294967295 is larger than the limit of 4194304 entries (at byte 36)`);
  await patch(v.path, 36, u32(4000000));
  await expectError(v.path, `${v.path}: qcow2 header: L1 table (32000000 bytes at ${v.l1}) extends past the end of the file (${v.size} bytes) (at byte 40)`);
});

test('qcow2 corrupt: an L1 table too small for the virtual size', async () => {
  const v = await victim('l1-small');
  await patch(v.path, 24, u64(1n << 40n));
  await expectError(v.path, `${v.path}: qcow2 header: l1_size 1 is too small for a virtual size of ${2 ** 40} bytes (needs 2048) (at byte 36)`);
});

test('qcow2 odd: a backing name of 0 bytes means no backing file, as qemu reads it', async () => {
  const v = await victim('empty-backing-name');
  await patch(v.path, 8, u64(512n));
  const dev = await openDisk(v.path, { openBacking: () => assert.fail('no backing file may be opened') });
  try {
    assert.equal(await hashDevice(dev), await qemuRawHash(v.path));
  } finally {
    await dev.close();
  }
});
