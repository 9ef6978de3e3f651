import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { openDisk } from '../../disk/open.js';
import { RawFile } from '../../disk/raw.js';
import { scratch } from '../fixtures/cache.js';

test('raw: reads and writes at positions, refuses ranges past the end', async () => {
  const dir = await scratch('raw');
  const path = join(dir, 'a.img');
  await writeFile(path, Buffer.alloc(8192, 7));
  const dev = await RawFile.open(path, true);
  assert.equal(dev.size, 8192n);
  await dev.write(4096n, Buffer.from('hello'));
  assert.equal((await dev.read(4095n, 7)).toString('latin1'), '\x07hello\x07');
  await assert.rejects(dev.read(8190n, 4), /read of 4 bytes at 8190 is outside the device of 8192 bytes/);
  await dev.close();
});

test('raw: a read-only open writes not one byte', async () => {
  const dir = await scratch('raw-ro');
  const path = join(dir, 'a.img');
  await writeFile(path, Buffer.alloc(512));
  const dev = await openDisk(path, { format: 'raw' });
  assert.equal(dev.canWrite(), false);
  await assert.rejects(dev.write(0n, Buffer.from('x')), /device is read-only/);
  await dev.close();
});

test('openDisk: a missing file is an error naming it', async () => {
  await assert.rejects(openDisk('/nonexistent/disk.img'), /\/nonexistent\/disk.img: cannot open/);
});
