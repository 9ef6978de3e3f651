/**
 * The mount's per-file read-ahead (mount/readahead.ts) over a real ext4 made by mkfs.ext4:
 * requests as the kernel sends them (128 KiB, a few at once, out of order) return exactly the
 * file's bytes; a device error is reported, never wrong data; a change made through the mount
 * is seen by the next read; and the memory budget is given back.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ErrorFilter } from '../../disk/filters/error.js';
import { RawFile } from '../../disk/raw.js';
import { ext4Driver } from '../../fs/ext4/driver.js';
import type { Filesystem } from '../../fs/filesystem.js';
import { FileReadahead, ReadaheadPool } from '../../mount/readahead.js';
import { fixture, scratch } from '../fixtures/cache.js';
import { run } from '../fixtures/run.js';
import { pattern } from '../fs/ext4/images.js';

const REQ = 128 << 10;
/** Several read-ahead chunks, and an end that is not chunk- or block-aligned. */
const DATA = pattern('readahead', (5 << 20) + 12345);

function image(): Promise<string> {
  return fixture('readahead-ext4.img', `v1 ${DATA.length}`, async (path) => {
    await mkdir(`${path}.src`);
    await writeFile(join(`${path}.src`, 'data.bin'), DATA);
    await run('mkfs.ext4', ['-q', '-F', '-d', `${path}.src`, path, '16M']);
    await rm(`${path}.src`, { recursive: true });
  });
}

async function withFs<T>(path: string, fn: (fs: Filesystem, ino: number) => Promise<T>, opts: { writable?: boolean; failWhile?: string } = {}): Promise<T> {
  const raw = await RawFile.open(path, opts.writable);
  const dev = opts.failWhile ? new ErrorFilter(raw, { file: opts.failWhile }) : raw;
  const fs = await ext4Driver.open(dev, { writable: opts.writable });
  try {
    return await fn(fs, (await fs.lookup(fs.rootIno, 'data.bin')).ino);
  } finally {
    await fs.close();
    await raw.close();
  }
}

/** Read [pos, pos+len) through the read-ahead as FUSE would, into a fresh buffer. */
async function read(ra: FileReadahead, pos: number, len = REQ): Promise<Buffer> {
  const buf = Buffer.alloc(len, 0xee);
  const n = await ra.read(buf, len, pos);
  return buf.subarray(0, n);
}

test('sequential reads in pairs, some swapped, return the file exactly', async () => {
  await withFs(await image(), async (fs, ino) => {
    const pool = new ReadaheadPool();
    const ra = new FileReadahead(fs, ino, pool);
    const parts: Buffer[] = [];
    // Unaligned start, as after a first small read.
    parts.push(await read(ra, 0, 16384));
    for (let pos = 16384, i = 0; pos < DATA.length + REQ; pos += 2 * REQ, i++) {
      const pair = i % 3 === 1 ? [pos + REQ, pos] : [pos, pos + REQ];
      const got = await Promise.all(pair.map((p) => read(ra, p)));
      parts.push(...(pair[0] === pos ? got : got.reverse()));
    }
    assert.ok(Buffer.concat(parts).equals(DATA));
    assert.ok(pool.held > 0, 'chunks were fetched ahead');
    assert.equal((await read(ra, DATA.length + 4096)).length, 0);
    ra.drop();
    // Fetches still running give their budget back when they end.
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(pool.held, 0);
  });
});

test('random reads between sequential runs return the right bytes', async () => {
  await withFs(await image(), async (fs, ino) => {
    const ra = new FileReadahead(fs, ino, new ReadaheadPool());
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let round = 0; round < 40; round++) {
      const pos = next() % DATA.length;
      const len = 1 + (next() % REQ);
      for (let k = 0; k < 3; k++) {
        const at = pos + k * len;
        assert.ok((await read(ra, at, len)).equals(DATA.subarray(at, at + len)), `round ${round} at ${at}+${len}`);
      }
    }
  });
});

test('a device error while reading ahead is reported, and reads work again after it', async () => {
  const dir = await scratch('readahead-error');
  const toggle = join(dir, 'fail');
  try {
    await withFs(await image(), async (fs, ino) => {
      const ra = new FileReadahead(fs, ino, new ReadaheadPool());
      await read(ra, 0);
      await read(ra, REQ);
      await writeFile(toggle, '');
      // Whatever was fetched before the error is right; past it, the error comes through.
      let failed = false;
      for (let pos = 2 * REQ; pos < DATA.length && !failed; pos += REQ) {
        try {
          assert.ok((await read(ra, pos)).equals(DATA.subarray(pos, pos + REQ)));
        } catch (e) {
          assert.match((e as Error).message, /injected error/);
          failed = true;
        }
      }
      assert.ok(failed, 'the device error reached the reader');
      await rm(toggle);
      const at = 3 << 20;
      assert.ok((await read(ra, at)).equals(DATA.subarray(at, at + REQ)));
      assert.ok((await read(ra, at + REQ)).equals(DATA.subarray(at + REQ, at + 2 * REQ)));
    }, { failWhile: toggle });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a write through the mount is seen by the next read, never stale read-ahead', async () => {
  const dir = await scratch('readahead-write');
  const copy = join(dir, 'fs.img');
  try {
    await copyFile(await image(), copy);
    await withFs(copy, async (fs, ino) => {
      const pool = new ReadaheadPool();
      const ra = new FileReadahead(fs, ino, pool);
      await read(ra, 0);
      await read(ra, REQ);
      // Chunks up to several MiB ahead are now held or fetching.
      const at = 2 << 20;
      const fresh = Buffer.alloc(REQ, 0x42);
      pool.changed();
      await fs.write(ino, at, fresh);
      pool.changed();
      for (let pos = 2 * REQ; pos < at; pos += REQ) await read(ra, pos);
      assert.ok((await read(ra, at)).equals(fresh));
      assert.ok((await read(ra, at + REQ)).equals(DATA.subarray(at + REQ, at + 2 * REQ)));
    }, { writable: true });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
