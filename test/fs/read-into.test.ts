/**
 * Filesystem.readInto as the FUSE read path and virt-cat use it: the bytes land in the
 * caller's buffer (a window of a larger one, as libfuse's are), at odd offsets and sizes,
 * across holes and the end of the file, the count comes back short only at the end, and not
 * one byte is written outside the window or past the count. Checked on ext4 (extents, block
 * maps, inline data, 1 KiB blocks, a sparse file) against the tree mkfs.ext4 -d was given
 * (debugfs cat pads an inline file to its 60-byte i_block), NTFS (compressed, sparse,
 * fragmented, resident) against ntfscat, and FAT against mcopy.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { RawFile } from '../../disk/raw.js';
import { ext4Driver } from '../../fs/ext4/driver.js';
import type { Filesystem } from '../../fs/filesystem.js';
import { resolvePath } from '../../fs/path.js';
import { VARIANTS, variantImage } from './ext4/images.js';
import { fatImage, openFat } from './fat/tools.js';
import { openNtfs, SPECS, ntfsImage } from './ntfs/images.js';

const execFileP = promisify(execFile);
const POISON = 0xa5;
const MARGIN = 32;

/** A tool's stdout as bytes. */
async function toolOutput(cmd: string, args: string[]): Promise<Buffer> {
  const { stdout } = await execFileP(cmd, args, { encoding: 'buffer', maxBuffer: 256 << 20 });
  return stdout;
}

/** Offsets and sizes around block, cluster, compression-unit and request edges, and the end. */
function spans(size: number): [number, number][] {
  const out: [number, number][] = [
    [0, 1], [0, 4096], [1, 4095], [511, 2], [4095, 2], [4097, 128 << 10], [12345, (64 << 10) + 7],
    [65535, 65538], [(1 << 20) - 3, 8192], [Math.floor(size / 2) - 1, 128 << 10],
    [Math.max(0, size - 3), 10], [size, 5], [size + 4096, 5],
  ];
  if (size <= 8 << 20) out.push([0, size + 100]);
  return out.filter(([at]) => at >= 0);
}

async function checkReadInto(fs: Filesystem, path: string, want: Buffer): Promise<void> {
  const { ino } = await resolvePath(fs, path);
  for (const [at, len] of spans(want.length)) {
    const outer = Buffer.alloc(len + 2 * MARGIN, POISON);
    const buf = outer.subarray(MARGIN, MARGIN + len);
    const n = await fs.readInto(ino, at, buf);
    const expected = want.subarray(Math.min(at, want.length), Math.min(at + len, want.length));
    const what = `${path}: readInto of ${len} bytes at ${at} (file of ${want.length})`;
    assert.equal(n, expected.length, `${what}: count`);
    assert.ok(buf.subarray(0, n).equals(expected), `${what}: bytes differ from the tool's`);
    const outside = Buffer.concat([outer.subarray(0, MARGIN), outer.subarray(MARGIN + n)]);
    assert.ok(outside.every((b) => b === POISON), `${what}: wrote outside the bytes it returned`);
  }
}

for (const name of ['ext4-default', 'ext2', 'ext4-inline', 'ext4-1k']) {
  const v = VARIANTS.find((x) => x.name === name)!;
  test(`readInto (${name}): files read into a caller's buffer as mkfs.ext4 -d was given them`, async () => {
    const { image, src } = await variantImage(v);
    const dev = await RawFile.open(image);
    const fs = await ext4Driver.open(dev);
    try {
      for (const path of ['/big.bin', '/sparse.bin', '/tiny.txt', '/medium.txt', '/hello.txt', '/empty']) {
        await checkReadInto(fs, path, await readFile(join(src, path)));
      }
    } finally {
      await fs.close();
      await dev.close();
    }
  });
}

test("readInto (ntfs): compressed, sparse, fragmented and resident files read into a caller's buffer as ntfscat prints them", async () => {
  const image = await ntfsImage(SPECS[512]);
  const fs = await openNtfs(image);
  try {
    for (const path of ['/comp/text', '/comp/random', '/comp/mixed', '/comp/holey', '/fragmented', '/fragA', '/manyruns', '/r300', '/empty']) {
      await checkReadInto(fs, path, await toolOutput('ntfscat', [image, path]));
    }
  } finally {
    await fs.dev.close();
  }
});

test("readInto (fat32): files read into a caller's buffer as mcopy prints them", async () => {
  const image = await fatImage('read-into-fat32', 32, 40 << 10, async (dir) => {
    const big = Buffer.alloc(3 * (1 << 20) + 777);
    for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24;
    await writeFile(join(dir, 'BIG.BIN'), big);
    await writeFile(join(dir, 'ONE.TXT'), 'x');
    await writeFile(join(dir, 'CLUSTER.BIN'), big.subarray(0, 4096));
    await writeFile(join(dir, 'EMPTY'), '');
  });
  const { fs, close } = await openFat(image);
  try {
    for (const name of ['BIG.BIN', 'ONE.TXT', 'CLUSTER.BIN', 'EMPTY']) {
      await checkReadInto(fs, `/${name}`, await toolOutput('mcopy', ['-n', '-i', image, `::/${name}`, '-']));
    }
  } finally {
    await close();
  }
});
