import assert from 'node:assert/strict';
import { mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { RawFile } from '../../../disk/raw.js';
import { ext4Driver } from '../../../fs/ext4/driver.js';
import type { Ext4Fs } from '../../../fs/ext4/ext4fs.js';
import { resolvePath } from '../../../fs/path.js';
import { run } from '../../fixtures/run.js';
import { pattern } from './images.js';
import { unlocked } from '../../../fs/locked.js';

// The host filesystem (ext4, 4 KiB blocks) caps files at 16 TiB, so the 17 TiB sparse image
// lives on tmpfs; it holds only ~45 MB of metadata and is rebuilt per run (about 3 s).
const SHM = '/dev/shm';
const HIGH_BLOCK = 4_500_000_000;
const BIG_TAIL_AT = 5 * 2 ** 30 + 12345;

test('ext4 64bit: 17 TiB filesystem (> 2^32 blocks), a file at block 4.5e9, a 5 GiB sparse file', async () => {
  const dir = join(SHM, `guestkit-ext4-big-${process.pid}`);
  await mkdir(join(dir, 'src'), { recursive: true });
  try {
    const fh = await open(join(dir, 'src', 'sparse5g'), 'w');
    await fh.write(pattern('head', 4096), 0, 4096, 0);
    await fh.write(pattern('tail', 1000), 0, 1000, BIG_TAIL_AT);
    await fh.close();
    const image = join(dir, 'fs.img');
    await run('truncate', ['-s', '17T', image]);
    await run('mkfs.ext4', ['-q', '-F', '-O', '64bit,sparse_super2,^resize_inode', '-E', 'lazy_itable_init=1,nodiscard,num_backup_sb=0', '-d', join(dir, 'src'), image]);
    await run('debugfs', ['-w', '-f', '-', image], {
      input: ['write /dev/null hi', 'extent_open hi', `set_bmap 0 ${HIGH_BLOCK}`, `set_bmap 1 ${HIGH_BLOCK + 1}`, 'extent_close', 'sif hi size 8000', `setb ${HIGH_BLOCK} 2`].join('\n'),
    });
    const data = pattern('high', 8192);
    const w = await open(image, 'r+');
    await w.write(data, 0, 8192, HIGH_BLOCK * 4096);
    await w.close();

    const dev = await RawFile.open(image);
    const fs = unlocked(await ext4Driver.open(dev)) as Ext4Fs;
    const st = await fs.statfs();
    const dump = await run('dumpe2fs', ['-h', image]);
    assert.equal(st.blocks, Number(/Block count:\s+(\d+)/.exec(dump)![1]));
    assert.ok(st.blocks > 2 ** 32);
    const hi = await resolvePath(fs, '/hi');
    assert.equal(hi.size, 8000);
    assert.deepEqual(await fs.read(hi.ino, 0, 8000), data.subarray(0, 8000));
    assert.deepEqual((await fs.physicalRuns(hi.ino)).map((r) => [r.lblk, r.pblk, r.len]), [[0, HIGH_BLOCK, 2]]);
    const sp = await resolvePath(fs, '/sparse5g');
    assert.equal(sp.size, BIG_TAIL_AT + 1000);
    assert.match(await run('debugfs', ['-R', 'stat /sparse5g', image]), new RegExp(`Size: ${sp.size}\\b`));
    assert.deepEqual(await fs.read(sp.ino, 0, 4096), pattern('head', 4096));
    assert.deepEqual(await fs.read(sp.ino, BIG_TAIL_AT - 100, 1100), Buffer.concat([Buffer.alloc(100), pattern('tail', 1000)]));
    assert.deepEqual(await fs.read(sp.ino, 3 * 2 ** 30, 65536), Buffer.alloc(65536));
    const ex = await fs.extents(sp.ino);
    assert.deepEqual(ex.map((e) => e.hole), [false, true, false]);
    assert.equal(ex[1]!.offset, 4096);
    await fs.close();
    await dev.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
