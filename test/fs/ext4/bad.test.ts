import assert from 'node:assert/strict';
import { copyFile, mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { RawFile } from '../../../disk/raw.js';
import { crc32c } from '../../../fs/ext4/crc32c.js';
import { ext4Driver } from '../../../fs/ext4/driver.js';
import { FsError } from '../../../fs/errors.js';
import type { Filesystem } from '../../../fs/filesystem.js';
import { readFile, resolvePath } from '../../../fs/path.js';
import { fixture, scratch } from '../../fixtures/cache.js';
import { hashFile, run } from '../../fixtures/run.js';
import { flip } from '../../fixtures/patch.js';
import type { Ext4Fs } from '../../../fs/ext4/ext4fs.js';
import { pattern, VARIANTS, variantImage } from './images.js';
import { prngInt } from '../../../disk/filters/prng.js';
import { unlocked } from '../../../fs/locked.js';

const ISLANDS = 12;

/** A small image with a fragmented file (depth-1 extent tree), a directory, a tiny file. */
async function baseImage(csum: boolean): Promise<string> {
  const feat = csum ? 'metadata_csum' : '^metadata_csum';
  const dir = await fixture(`ext4-bad-${feat}`, feat + baseImage.toString(), async (out) => {
    await mkdir(join(out, 'src/d'), { recursive: true });
    const fh = await open(join(out, 'src/frag'), 'w');
    for (let i = 0; i < ISLANDS; i++) await fh.write(pattern(`frag${i}`, 1024), 0, 1024, i * 8192);
    await fh.close();
    for (let i = 0; i < 20; i++) await writeFile(join(out, 'src/d', `f${i}`), `${i}\n`);
    await writeFile(join(out, 'src/tiny'), 'tiny\n');
    await run('truncate', ['-s', '8M', join(out, 'fs.img')]);
    await run('mkfs.ext4', ['-q', '-F', '-b', '1024', '-O', feat, '-d', join(out, 'src'), join(out, 'fs.img')]);
  });
  return join(dir, 'fs.img');
}

/** Copy the base image, patch bytes, and return the copy. */
async function broken(csum: boolean, name: string, patch: (image: string, fh: import('node:fs/promises').FileHandle) => Promise<void>): Promise<string> {
  const dir = await scratch(`ext4-bad-${name}`);
  const copy = join(dir, 'fs.img');
  await copyFile(await baseImage(csum), copy);
  const fh = await open(copy, 'r+');
  await patch(copy, fh);
  await fh.close();
  return copy;
}

async function debugfsNum(image: string, cmd: string, re: RegExp): Promise<number> {
  const out = await run('debugfs', ['-R', cmd, image]);
  const m = re.exec(out);
  if (!m) throw new Error(`debugfs ${cmd}: no ${re} in ${out}`);
  return Number(m[1]);
}

/** Open read-only, run `body`, check it fails with an EIO naming `what`, and that nothing was written. */
async function expectEio(image: string, what: RegExp, body: (fs: Filesystem) => Promise<unknown>): Promise<void> {
  const before = await hashFile(image);
  const dev = await RawFile.open(image);
  try {
    await assert.rejects(async () => body(await ext4Driver.open(dev, { warn: () => undefined })), (e: unknown) => {
      assert.ok(e instanceof FsError, `not an FsError: ${String(e)}`);
      assert.equal(e.code, 'EIO');
      assert.match(e.message, what);
      assert.ok(e.message.includes(image), `message names the image: ${e.message}`);
      return true;
    });
  } finally {
    await dev.close();
  }
  assert.equal(await hashFile(image), before, 'the image was written');
}

/** Run one fuzz round's reads; a round that does not finish in 10 s is a hang. */
async function noHang<T>(round: number, body: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`round ${round}: hang`)), 10_000)));
  try {
    return await Promise.race([body(), hang]);
  } finally {
    clearTimeout(timer);
  }
}

test('ext4 bad input: the base images read correctly (fragmented file through a depth-1 tree)', async () => {
  for (const csum of [false, true]) {
    const image = await baseImage(csum);
    assert.match(await run('debugfs', ['-R', 'stat /frag', image]), /ETB0/);
    const dev = await RawFile.open(image);
    const fs = await ext4Driver.open(dev);
    const data = await readFile(fs, '/frag');
    for (let i = 0; i < ISLANDS; i++) assert.deepEqual(data.subarray(i * 8192, i * 8192 + 1024), pattern(`frag${i}`, 1024));
    await dev.close();
  }
});

test('ext4 bad input: broken superblocks are refused with a precise error', async () => {
  const sbField = async (name: string, off: number, value: number, bytes: 2 | 4, re: RegExp, code = 'EIO'): Promise<void> => {
    const image = await broken(false, name, async (_i, fh) => {
      const b = Buffer.alloc(bytes);
      if (bytes === 2) b.writeUInt16LE(value);
      else b.writeUInt32LE(value);
      await fh.write(b, 0, bytes, 1024 + off);
    });
    const dev = await RawFile.open(image);
    await assert.rejects(ext4Driver.open(dev), (e: unknown) => e instanceof FsError && e.code === code && re.test(e.message) && e.message.includes(image));
    await dev.close();
  };
  await sbField('magic', 0x38, 0x1234, 2, /bad magic/);
  await sbField('logbs', 0x18, 20, 4, /s_log_block_size 20 out of range/);
  await sbField('ipg', 0x28, 0, 4, /s_inodes_per_group 0 out of range/);
  await sbField('bpg', 0x20, 0, 4, /s_blocks_per_group 0 out of range/);
  await sbField('icount', 0x0, 12345, 4, /s_inodes_count 12345 does not match/);
  await sbField('isize', 0x58, 100, 2, /s_inode_size 100 invalid/);
  await sbField('incompat', 0x60, 0x2 | 0x40 | 0x80000, 4, /unsupported INCOMPAT features 0x80000/, 'ENOTSUP');
  // With metadata_csum, any changed byte is a checksum mismatch.
  const image = await broken(true, 'sbcsum', async (_i, fh) => {
    await fh.write(Buffer.from([0x42]), 0, 1, 1024 + 0x78);
  });
  await expectEio(image, /ext4 superblock: checksum mismatch/, async () => undefined);
});

test('ext4 bad input: fuzzed superblocks and group descriptors never crash or hang', { timeout: 300_000 }, async () => {
  const base = await baseImage(false);
  const dir = await scratch('ext4-fuzz');
  const copy = join(dir, 'fuzz.img');
  const rnd = prngInt(12345);
  for (let round = 0; round < 60; round++) {
    await copyFile(base, copy);
    for (let k = 0; k < 4; k++) {
      // Superblock (1024..2048) and the first group descriptors (block 2).
      const at = rnd(2) ? 1024 + rnd(256) : 2048 + rnd(128);
      await flip(copy, at, 1 + rnd(255));
    }
    const dev = await RawFile.open(copy);
    try {
      await noHang(round, async () => {
        const fs = await ext4Driver.open(dev, { warn: () => undefined });
        const walk = async (ino: number, depth: number): Promise<void> => {
          for (const e of await fs.readdir(ino)) {
            if ((e.attr.mode & 0o170000) === 0o040000 && depth < 4) await walk(e.attr.ino, depth + 1);
            else if ((e.attr.mode & 0o170000) === 0o100000) await fs.read(e.attr.ino, 0, 1 << 16);
          }
        };
        await walk(fs.rootIno, 0);
      });
    } catch (e) {
      if ((e as Error).message.endsWith('hang')) throw e;
      assert.ok(e instanceof FsError || (e as Error).name === 'DiskError', `round ${round}: unexpected ${(e as Error).stack}`);
    } finally {
      await dev.close();
    }
  }
});

test('ext4 bad input: extent trees with loops, bad depth or out-of-range blocks', async () => {
  for (const csum of [false, true]) {
    const leafOf = async (image: string): Promise<number> => debugfsNum(image, 'stat /frag', /\(ETB0\):\s*(\d+)/);
    // The root's index points at the root's own leaf block, which now claims depth 1 again.
    const loop = await broken(csum, 'ext-loop', async (image, fh) => {
      const leaf = await leafOf(image);
      const hdr = Buffer.alloc(24);
      hdr.writeUInt16LE(0xf30a, 0);
      hdr.writeUInt16LE(1, 2);
      hdr.writeUInt16LE(84, 4);
      hdr.writeUInt16LE(1, 6);
      hdr.writeUInt32LE(0, 12);
      hdr.writeUInt32LE(leaf, 16);
      await fh.write(hdr, 0, 24, leaf * 1024);
    });
    await expectEio(loop, csum ? /extent block \d+: checksum mismatch/ : /extent node depth 1, expected 0 \(loop or damaged tree\)/, (fs) => readFile(fs, '/frag'));
    const outside = await broken(csum, 'ext-outside', async (image, fh) => {
      const leaf = await leafOf(image);
      const b = Buffer.alloc(4);
      b.writeUInt32LE(9_000_000);
      // First leaf extent's ee_start_lo.
      await fh.write(b, 0, 4, leaf * 1024 + 12 + 8);
    });
    await expectEio(outside, csum ? /checksum mismatch/ : /extent 0 \(1 blocks at 9000000\) is outside the filesystem/, (fs) => readFile(fs, '/frag'));
  }
});

test('ext4 bad input: directory entries with a bad rec_len', async () => {
  const image = await broken(false, 'reclen', async (img, fh) => {
    const blk = await debugfsNum(img, 'bmap /d 0', /(\d+)/);
    const b = Buffer.alloc(2);
    b.writeUInt16LE(3);
    // "." is 12 bytes; the ".." entry's rec_len sits at 12 + 4.
    await fh.write(b, 0, 2, blk * 1024 + 16);
  });
  await expectEio(image, /directory entry at offset 12 has bad rec_len 3/, async (fs) => fs.readdir((await resolvePath(fs, '/d')).ino));
  await expectEio(image, /bad rec_len/, async (fs) => resolvePath(fs, '/d/f3'));
});

test('ext4 bad input: a huge i_size on a tiny file, an entry naming a free inode', async () => {
  const huge = await broken(false, 'isize', async (img) => {
    await run('debugfs', ['-w', '-R', 'sif /tiny size 0x7000000000000', img]);
  });
  await expectEio(huge, /i_size \d+ is larger than the mapping can address/, async (fs) => fs.read((await resolvePath(fs, '/tiny')).ino, 0, 10));
  const freed = await broken(false, 'freed', async (img) => {
    await run('debugfs', ['-w', '-R', 'clri /tiny', img]);
  });
  // The listing goes on without the entry (one damaged inode costs its entry, not the directory); lookup says why.
  await expectEio(freed, /is not in use/, async (fs) => {
    assert.ok(!(await fs.readdir(fs.rootIno)).some((e) => e.name === 'tiny'));
    return fs.lookup(fs.rootIno, 'tiny');
  });
});

test('ext4 bad input: inode and directory block checksums are checked (metadata_csum)', async () => {
  const ino = await broken(true, 'icsum', async (img, fh) => {
    const blk = await debugfsNum(img, 'imap /tiny', /located at block (\d+)/);
    const off = await debugfsNum(img, 'imap /tiny', /offset (0x[0-9a-f]+)/);
    await fh.write(Buffer.from([0x77]), 0, 1, blk * 1024 + off + 0x24);
  });
  await expectEio(ino, /inode \d+: checksum mismatch/, async (fs) => resolvePath(fs, '/tiny'));
  const dirb = await broken(true, 'dcsum', async (img, fh) => {
    const blk = await debugfsNum(img, 'bmap /d 0', /(\d+)/);
    await fh.write(Buffer.from([0x7a]), 0, 1, blk * 1024 + 30);
  });
  await expectEio(dirb, /directory inode \d+ block: checksum mismatch/, async (fs) => fs.readdir((await resolvePath(fs, '/d')).ino));
  assert.equal((crc32c(0xffffffff, Buffer.from('123456789')) ^ 0xffffffff) >>> 0, 0xe3069283, 'crc32c check value');
});

test('ext4 bad input: a damaged htree index falls back to a linear scan', async () => {
  const { image: base } = await variantImage(VARIANTS.find((v) => v.name === 'ext4-default')!);
  const dir = await scratch('ext4-bad-htree');
  const image = join(dir, 'fs.img');
  await copyFile(base, image);
  const blk = await debugfsNum(image, 'bmap /many 0', /(\d+)/);
  const bs = await debugfsNum(image, 'stats', /Block size:\s+(\d+)/);
  const fh = await open(image, 'r+');
  // dx_root_info.info_length (must be 8) and the root's count.
  await fh.write(Buffer.from([0x33]), 0, 1, blk * bs + 0x1d);
  await fh.close();
  const before = await hashFile(image);
  const dev = await RawFile.open(image);
  const fs = unlocked(await ext4Driver.open(dev)) as Ext4Fs;
  const many = await resolvePath(fs, '/many');
  const dirInode = await fs.inodes.get(many.ino);
  assert.equal(await fs.dirs.htreeLookup(dirInode, Buffer.from('entry-5-nnnnn')), null, 'the index is seen as damaged');
  for (const i of [0, 5, 123, 399]) {
    const name = `entry-${i}-${'n'.repeat(i % 40)}`;
    assert.equal((await readFile(fs, `/many/${name}`)).toString(), `${i}\n`);
  }
  assert.equal((await fs.readdir(many.ino)).length, 400);
  await dev.close();
  assert.equal(await hashFile(image), before);
});

test('ext4 bad input: directory sizes past the blocks are holes, absurd ones are refused', async () => {
  const holey = await broken(false, 'dirsize', async (img) => {
    await run('debugfs', ['-w', '-R', `sif /d size ${2 ** 31}`, img]);
  });
  const dev = await RawFile.open(holey);
  const fs = await ext4Driver.open(dev);
  // Holes are skipped whole (bench/, not this test, says how fast).
  assert.equal((await fs.readdir((await resolvePath(fs, '/d')).ino)).length, 20);
  await dev.close();
  const huge = await broken(false, 'dirhuge', async (img) => {
    await run('debugfs', ['-w', '-R', `sif /d size ${2 ** 40}`, img]);
  });
  await expectEio(huge, /i_size 1099511627776 is larger than 4294967296/, async (fs) => fs.readdir((await resolvePath(fs, '/d')).ino));
});

test('ext4 bad input: fuzzed inode tables, directories and extent blocks give FsErrors only; with metadata_csum, damage to covered bytes is EIO', { timeout: 300_000 }, async () => {
  for (const csum of [false, true]) {
    const base = await baseImage(csum);
    // Metadata lives in the first megabyte of this small image: inode tables, directories, trees.
    const inodeTable = await debugfsNum(base, 'imap /frag', /located at block (\d+)/);
    const targets = [inodeTable, await debugfsNum(base, 'bmap /d 0', /(\d+)/), await debugfsNum(base, 'stat /frag', /\(ETB0\):\s*(\d+)/), await debugfsNum(base, 'bmap / 0', /(\d+)/)];
    // Bytes a checksum covers and the walk reads: /frag's inode, both directory blocks but
    // their checksum tail's fixed header, and the whole extent block.
    const inodeAt = inodeTable * 1024 + (await debugfsNum(base, 'imap /frag', /offset (0x[0-9a-f]+)/));
    const inodeSize = await debugfsNum(base, 'stats', /Inode size:\s+(\d+)/);
    const covered = (at: number): boolean => {
      if (at >= inodeAt && at < inodeAt + inodeSize) return true;
      const block = Math.floor(at / 1024);
      const off = at % 1024;
      if (block === targets[2]) return true;
      return (block === targets[1] || block === targets[3]) && (off < 1024 - 12 || off >= 1024 - 4);
    };
    const dir = await scratch('ext4-fuzz-meta');
    const copy = join(dir, 'fuzz.img');
    const rnd = prngInt(csum ? 99 : 7);
    let detected = 0;
    for (let round = 0; round < 40; round++) {
      await copyFile(base, copy);
      let hitCovered = false;
      for (let k = 0; k < 6; k++) {
        const at = targets[rnd(targets.length)]! * 1024 + rnd(1024);
        hitCovered ||= covered(at);
        await flip(copy, at, 1 + rnd(255));
      }
      const dev = await RawFile.open(copy);
      try {
        await noHang(round, async () => {
          const fs = await ext4Driver.open(dev, { warn: () => undefined });
          const walk = async (ino: number, depth: number): Promise<void> => {
            for (const e of await fs.readdir(ino)) {
              const type = e.attr.mode & 0o170000;
              if (type === 0o040000 && depth < 4) await walk(e.attr.ino, depth + 1);
              else if (type === 0o100000) await fs.read(e.attr.ino, 0, Math.min(e.attr.size, 1 << 20));
              else if (type === 0o120000) await fs.readlink(e.attr.ino);
              await fs.listxattr(e.attr.ino);
            }
          };
          await walk(fs.rootIno, 0);
          await resolvePath(fs, '/d/f7');
        });
        assert.ok(!(csum && hitCovered), `round ${round}: damage under a checksum went unnoticed`);
      } catch (e) {
        if (e instanceof assert.AssertionError || (e as Error).message.endsWith('hang')) throw e;
        assert.ok(e instanceof FsError || (e as Error).name === 'DiskError', `round ${round}: unexpected ${(e as Error).stack}`);
        if (csum && hitCovered) {
          assert.equal((e as FsError).code, 'EIO', `round ${round}: damage under a checksum: ${(e as Error).message}`);
          detected++;
        }
      } finally {
        await dev.close();
      }
    }
    if (csum) assert.ok(detected > 10, `rounds that damaged checksummed bytes: ${detected}`);
  }
});
