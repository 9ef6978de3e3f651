/**
 * The FUSE read path: each kernel read goes straight into libfuse's buffer (Filesystem
 * readInto). Many reads at once, at odd offsets and sizes and across the end of the file,
 * return big.bin's bytes on ext4, FAT and NTFS mounts made by the real tools; and the mount's
 * read-ahead window is 1 MiB when root mounts it (the kernel's 128 KiB otherwise).
 */
import assert from 'node:assert/strict';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { mountAt } from '../../mount/mountinfo.js';
import { BIG, ext4Image, fatImage, ntfsImage } from './images.js';
import { withMount } from './helpers.js';

const T = { timeout: 120_000 };

/** Seeded (offset, length) pairs over [0, size + 4096): odd places, some past the end. */
function requests(size: number, count: number): [number, number][] {
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
  const out: [number, number][] = [[0, 1], [size - 1, 100], [size - 4095, 4096 * 3], [size, 10], [4095, 2]];
  while (out.length < count) out.push([next() % (size + 4096), 1 + (next() % (300 << 10))]);
  return out;
}

for (const [kind, image] of [['ext4', ext4Image], ['vfat', fatImage], ['ntfs', ntfsImage]] as const) {
  test(`${kind}: concurrent reads at odd offsets and sizes return big.bin's bytes`, T, async () => {
    await withMount(`read-${kind}`, ['-a', await image(), '--ro', '-m', '/dev/sda'], async (mnt) => {
      const fh = await open(join(mnt, 'big.bin'));
      try {
        const reads = requests(BIG.length, 200).map(async ([at, len]) => {
          const buf = Buffer.alloc(len, 0xa5);
          const { bytesRead } = await fh.read(buf, 0, len, at);
          const want = BIG.subarray(Math.min(at, BIG.length), Math.min(at + len, BIG.length));
          assert.equal(bytesRead, want.length, `read of ${len} at ${at}`);
          assert.ok(buf.subarray(0, bytesRead).equals(want), `read of ${len} at ${at}: wrong bytes`);
        });
        await Promise.all(reads);
      } finally {
        await fh.close();
      }
    });
  });
}

test("the mount's kernel read-ahead window: 1 MiB when root mounts, the kernel's default otherwise", T, async () => {
  await withMount('read-ahead', ['-a', await ext4Image(), '--ro', '-m', '/dev/sda'], async (mnt) => {
    const m = await mountAt(mnt);
    assert.ok(m, 'the mount is listed');
    const kb = Number((await readFile(`/sys/class/bdi/${m.device}/read_ahead_kb`, 'utf8')).trim());
    assert.equal(kb, process.getuid?.() === 0 ? 1024 : 128);
    assert.equal(await readFile(join(mnt, 'hello.txt'), 'utf8'), 'hello world\n');
  });
});
