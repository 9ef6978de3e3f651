/** Damaged and hostile sparse files: each gives one exact error naming the file and the byte. */
import assert from 'node:assert/strict';
import { copyFile, open, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { deflateSync } from 'node:zlib';
import { openDisk } from '../../../disk/open.js';
import { scratch } from '../../fixtures/cache.js';
import { assertReadFails, hashDevice } from '../../fixtures/run.js';
import { MiB, qemuVmdk, rawSource, varied } from './images.js';
import { vmwareStream } from './stream-writer.js';

const SIZE = 4 * MiB;

/** A private copy of a qemu-made image of the usual test data. */
async function copyOf(subformat: string, name: string): Promise<string> {
  const image = await qemuVmdk(subformat, await rawSource(`vmdk-src-${SIZE}`, SIZE, varied(SIZE)));
  const path = join(await scratch(name), 'disk.vmdk');
  await copyFile(image, path);
  return path;
}

async function patch(path: string, at: number, bytes: Buffer): Promise<void> {
  const fh = await open(path, 'r+');
  await fh.write(bytes, 0, bytes.length, at);
  await fh.close();
}

const u32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
};
const u64 = (v: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return b;
};

/** Where the first grain's table and data are, read from the file as a checker would. */
async function layout(path: string) {
  const f = await readFile(path);
  const gdSector = Number(f.readBigUInt64LE(56));
  const gtSector = f.readUInt32LE(gdSector * 512);
  const grainSector = f.readUInt32LE(gtSector * 512);
  return { size: f.length, gdSector, gtSector, grainSector, grainSize: f.readUInt32LE(grainSector * 512 + 8) };
}

/** Opening and reading everything fails with exactly `message`. */
function fails(path: string, message: string): Promise<void> {
  return assertReadFails(path, message);
}

test('vmdk corrupt: a sparse file cut inside its header', async () => {
  const path = await copyOf('monolithicSparse', 'vmdk-cut-header');
  await truncate(path, 300);
  await fails(path, `${path}: file of 300 bytes is too small for a VMDK sparse header`);
});

test('vmdk corrupt: a sparse file cut inside its first grain', async () => {
  const path = await copyOf('monolithicSparse', 'vmdk-cut-grain');
  const { grainSector } = await layout(path);
  const cut = grainSector * 512 + 1000;
  await truncate(path, cut);
  await fails(path, `${path}: grain table entry of grain 0 points to sector ${grainSector}: its 65536 bytes of data is outside the file of ${cut} bytes (at byte ${grainSector * 512})`);
});

test('vmdk corrupt: grain directory past the end falls back to the redundant one, then fails', async () => {
  const path = await copyOf('monolithicSparse', 'vmdk-gd');
  const good = await hashDevice(await openDisk(path));
  const { size } = await layout(path);
  await patch(path, 56, u64(1n << 20n));
  const dev = await openDisk(path);
  assert.equal(await hashDevice(dev), good, 'the redundant grain directory gives the same disk');
  await dev.close();
  await patch(path, 48, u64((1n << 20n) + 1n));
  await fails(path, `${path}: grain directory at sector 1048576 (4 bytes) is outside the file of ${size} bytes, and so is the redundant one at sector 1048577 (at byte 536870912)`);
});

test('vmdk corrupt: grain directory entry pointing past the end', async () => {
  const path = await copyOf('monolithicSparse', 'vmdk-gde');
  const { gdSector, size } = await layout(path);
  await patch(path, gdSector * 512, u32(0x7fffffff));
  await fails(path, `${path}: grain table 0 at sector 2147483647 (2048 bytes) is outside the file of ${size} bytes (at byte 1099511627264)`);
});

test('vmdk corrupt: grain table entry pointing past the end', async () => {
  const path = await copyOf('monolithicSparse', 'vmdk-gte');
  const { gtSector, size } = await layout(path);
  await patch(path, gtSector * 512, u32(0x7fffffff));
  await fails(path, `${path}: grain table entry of grain 0 points to sector 2147483647: its 65536 bytes of data is outside the file of ${size} bytes (at byte 1099511627264)`);
});

test('vmdk corrupt: compressed grain with bad deflate data', async () => {
  const path = await copyOf('streamOptimized', 'vmdk-deflate');
  const { grainSector, grainSize } = await layout(path);
  // Keep the zlib header, spoil the first deflate block.
  await patch(path, grainSector * 512 + 12 + 2, Buffer.alloc(64, 0xff));
  await fails(path, `${path}: compressed grain of ${grainSize} bytes: bad deflate data (invalid block type) (at byte ${grainSector * 512})`);
});

test('vmdk corrupt: grain marker naming the wrong sector', async () => {
  const path = await copyOf('streamOptimized', 'vmdk-marker');
  const { grainSector } = await layout(path);
  await patch(path, grainSector * 512, u64(999n));
  await fails(path, `${path}: grain marker of grain 0 names sector 999, expected 0 (at byte ${grainSector * 512})`);
});

test('vmdk corrupt: a compressed grain that inflates past the grain size is cut off, not allocated', async () => {
  const dir = await scratch('vmdk-bomb');
  const path = join(dir, 'disk.vmdk');
  const raw = Buffer.alloc(MiB, 1);
  await writeFile(path, vmwareStream(raw, { mangle: (g, z) => (g === 3 ? deflateSync(Buffer.alloc(64 << 20)) : z) }));
  const dev = await openDisk(path);
  await assert.rejects(dev.read(3n * 65536n, 512), (e: Error) => /: compressed grain of \d+ bytes: inflates to more than the grain size of 65536 bytes \(at byte \d+\)$/.test(e.message));
  await dev.close();
});

test('vmdk corrupt: streamOptimized footer and markers', async () => {
  const dir = await scratch('vmdk-footer');
  const raw = Buffer.alloc(MiB, 7);
  const stream = vmwareStream(raw, { gtesPerGt: 8 });
  const path = join(dir, 'disk.vmdk');
  await writeFile(path, stream);
  // Footer marker turned into something else.
  await patch(path, stream.length - 1536 + 12, u32(5));
  await fails(path, `${path}: streamOptimized footer marker not found (header says the grain directory is at the end) (at byte ${stream.length - 1536})`);
  // Intact footer, but the first grain table's marker is damaged.
  await writeFile(path, stream);
  const footer = stream.subarray(stream.length - 1024);
  const gdSector = Number(footer.readBigUInt64LE(56));
  const gtSector = stream.readUInt32LE(gdSector * 512);
  await patch(path, (gtSector - 1) * 512 + 12, u32(2));
  await fails(path, `${path}: grain table 0 at sector ${gtSector} is not preceded by its streamOptimized marker (type 1) (at byte ${(gtSector - 1) * 512})`);
});

test('vmdk corrupt: huge header values are refused before anything is allocated', async () => {
  const path = await copyOf('monolithicSparse', 'vmdk-huge');
  const original = await readFile(path);
  const header = (p: string) => `${p}: VMDK sparse header: `;
  await patch(path, 44, u32(0xffffffff));
  await fails(path, `${header(path)}numGTEsPerGT 4294967295 is not from 1 to 4096 (at byte 0)`);
  await writeFile(path, original);
  await patch(path, 12, u64(1n << 62n));
  await fails(path, `${header(path)}capacity of 4611686018427387904 sectors is larger than 8796093022208 (at byte 0)`);
  await writeFile(path, original);
  await patch(path, 12, u64(1n << 43n));
  await patch(path, 20, u64(1n));
  await patch(path, 44, u32(1));
  await fails(path, `${header(path)}grain directory of 8796093022208 entries is larger than 4194304 (at byte 0)`);
  await writeFile(path, original);
  await patch(path, 20, u64(3n));
  await fails(path, `${header(path)}grain size of 3 sectors is not a power of two from 1 to 32768 (at byte 0)`);
  await writeFile(path, original);
  await patch(path, 73, Buffer.from('\n \n\n', 'latin1'));
  await fails(path, `${header(path)}newline test bytes 0a200a0a are damaged (text-mode transfer?) (at byte 0)`);
});
