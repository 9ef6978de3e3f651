import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { openDisk } from '../../disk/open.js';
import { RawFile } from '../../disk/raw.js';
import { scratch } from '../fixtures/cache.js';
import { run } from '../fixtures/run.js';

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

test('raw: a FIFO, a directory or a character device is refused naming the path, without blocking', async () => {
  const dir = await scratch('raw-kinds');
  const fifo = join(dir, 'fifo');
  await run('mkfifo', [fifo]);
  // Before the check, open(2) of a FIFO with no writer waited forever.
  await assert.rejects(openDisk(fifo), { message: `${fifo}: is a FIFO, not a disk image (only regular files and block devices can be opened)`, code: 'EINVAL' });
  await assert.rejects(openDisk(fifo, { writable: true }), { message: `${fifo}: is a FIFO, not a disk image (only regular files and block devices can be opened)` });
  await assert.rejects(openDisk(dir), { message: `${dir}: is a directory, not a disk image (only regular files and block devices can be opened)`, code: 'EISDIR' });
  await assert.rejects(openDisk(dir, { writable: true }), { message: `${dir}: is a directory, not a disk image (only regular files and block devices can be opened)`, code: 'EISDIR' });
  await assert.rejects(openDisk('/dev/zero'), { message: '/dev/zero: is a character device, not a disk image (only regular files and block devices can be opened)' });
});

test('raw: a FIFO named as a qcow2 backing file is refused, even with the format given', async () => {
  const dir = await scratch('raw-fifo-backing');
  const top = join(dir, 'top.qcow2');
  await run('mkfifo', [join(dir, 'base.raw')]);
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-u', '-b', 'base.raw', '-F', 'raw', top, '1M']);
  await assert.rejects(openDisk(top, { format: 'qcow2' }), (e: Error) => {
    assert.match(e.message, new RegExp(`${join(dir, 'base.raw')}: is a FIFO, not a disk image`));
    return true;
  });
});

test('raw write-behind: past writeBehind bytes a datasync runs in the background (filefrag: the first blocks leave delayed allocation), and all reads back', async () => {
  const dir = await scratch('raw-write-behind');
  const path = join(dir, 'b.img');
  await writeFile(path, '');
  const dev = await RawFile.open(path, true, { writeBehind: 4 << 20 });
  await dev.resize(8n << 20n);
  const data = randomBytes(8 << 20);
  for (let off = 0; off < data.length; off += 1 << 20) await dev.write(BigInt(off), data.subarray(off, off + (1 << 20)));
  // Without write-behind the kernel leaves new pages dirty (delalloc, no disk block yet) for ~30 s.
  const firstExtent = async () => (await run('filefrag', ['-v', path])).split('\n').find((l) => /^\s*0:\s+0\.\./.test(l)) ?? '';
  const deadline = Date.now() + 10_000;
  while (/delalloc/.test(await firstExtent()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.doesNotMatch(await firstExtent(), /delalloc/, 'the first 4 MiB were not written back in the background');
  await dev.flush();
  assert.ok((await dev.read(0n, data.length)).equals(data));
  await dev.close();
  assert.ok((await readFile(path)).equals(data));
});
