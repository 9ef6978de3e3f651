/**
 * Faults below a mounted filesystem: the error filter (`--filter error:file=TRIGGER,…`) makes
 * device reads or writes fail while a trigger file exists. Failures reach the caller as EIO,
 * never as wrong data; a write that failed is never acknowledged (fsync says so); and the
 * daemon keeps serving, so the same reads work once the faults stop. A remote disk whose
 * server goes away (connections reset) for OUTAGE_S seconds (30 by default) and comes back:
 * a read started during the outage completes with the right bytes, and the mount lives on.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { scratch } from '../fixtures/cache.js';
import { run } from '../fixtures/run.js';
import { fromBuffer, startFaultServer } from '../remote/fault-server.js';
import { guestImages } from '../remote/images.js';
import { sh, withMount } from './helpers.js';
import { BIG, ext4Image } from './images.js';

const T = { timeout: 240_000 };
const OUTAGE_S = Number(process.env.OUTAGE_S ?? 30);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Read a file through the mount: its bytes, or the errno it failed with. */
const attempt = (path: string) => readFile(path).then((b) => b, (e: NodeJS.ErrnoException) => e.code ?? 'error');

test('read faults below a mount reach the reader as EIO, never as wrong data, and reads work again after', T, async () => {
  const dir = await scratch('faults-read');
  const trigger = join(dir, 'trigger');
  const img = await ext4Image();
  await withMount('faults-read', ['-a', img, '-m', '/dev/sda', '--ro', '--filter', `error:file=${trigger},rate=35%,seed=7,ops=read`], async (mnt) => {
    assert.equal(await readFile(join(mnt, 'hello.txt'), 'utf8'), 'hello world\n');
    await writeFile(trigger, '');
    const seen = { eio: 0, good: 0 };
    for (let i = 0; i < 50; i++) {
      const r = await attempt(join(mnt, 'dir', `f${i}.txt`));
      if (typeof r === 'string') {
        assert.equal(r, 'EIO', `f${i}.txt`);
        seen.eio++;
      } else {
        assert.equal(r.toString(), `${i}\n`, `f${i}.txt read during faults`);
        seen.good++;
      }
    }
    const big = await attempt(join(mnt, 'big.bin'));
    if (typeof big === 'string') assert.equal(big, 'EIO');
    else assert.equal(sha(big), sha(BIG));
    assert.ok(seen.eio > 0 && seen.good > 0, JSON.stringify(seen));
    await rm(trigger);
    // The daemon still serves, and nothing it failed to read was kept as if read.
    for (let i = 0; i < 50; i++) assert.equal(await readFile(join(mnt, 'dir', `f${i}.txt`), 'utf8'), `${i}\n`);
    assert.equal(sha(await readFile(join(mnt, 'big.bin'))), sha(BIG));
    assert.equal(await readFile(join(mnt, 'dir', 'nested', 'deep.txt'), 'utf8'), 'deep\n');
  });
});

test('write faults below a read-write mount: the failed write is not acknowledged (fsync fails), later writes work', T, async () => {
  const dir = await scratch('faults-write');
  const trigger = join(dir, 'trigger');
  const img = join(dir, 'disk.img');
  await run('cp', ['--sparse=always', await ext4Image(), img]);
  await withMount('faults-write', ['-a', img, '-m', '/dev/sda', '--rw', '--filter', `error:file=${trigger},ops=write+flush`], async (mnt) => {
    await writeFile(trigger, '');
    // Python reports each step of write → fsync → close: one of them must fail.
    const out = await sh(`python3 - <<'PY'
import os
steps = []
try:
    fd = os.open('during.txt', os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, b'x' * 65536)
    steps.append('written')
    os.fsync(fd)
    steps.append('synced')
    os.close(fd)
    steps.append('closed')
except OSError as e:
    steps.append('errno=' + str(e.errno))
print(' '.join(steps))
PY`, mnt);
    assert.match(out.trim(), /errno=5$/, out);
    assert.ok(!/synced/.test(out), `an fsync was acknowledged while every device write failed: ${out}`);
    await rm(trigger);
    // The daemon lives on: a new file is written, synced and read back.
    await sh(`python3 - <<'PY'
import os
fd = os.open('after.txt', os.O_WRONLY | os.O_CREAT, 0o644)
os.write(fd, b'after the faults\\n')
os.fsync(fd)
os.close(fd)
PY`, mnt);
    assert.equal(await readFile(join(mnt, 'after.txt'), 'utf8'), 'after the faults\n');
    assert.equal(await readFile(join(mnt, 'hello.txt'), 'utf8'), 'hello world\n');
  });
  // Remounted, the acknowledged file is there.
  await withMount('faults-write-again', ['-a', img, '-m', '/dev/sda', '--ro'], async (mnt) => {
    assert.equal(await readFile(join(mnt, 'after.txt'), 'utf8'), 'after the faults\n');
  });
});

test(`a remote disk gone for ${OUTAGE_S} s: the read waiting on it completes with the right bytes, the mount lives on`, { timeout: 120_000 + OUTAGE_S * 2000 }, async () => {
  const images = await guestImages();
  const raw = await readFile(images.raw);
  const server = await startFaultServer(BigInt(raw.length), fromBuffer(raw));
  try {
    await withMount('faults-remote', ['-a', server.url, '-m', '/dev/sda1', '--ro'], async (mnt) => {
      assert.equal(await readFile(join(mnt, 'etc', 'hostname'), 'utf8'), 'remote-guest\n');
      server.faults.down = true;
      const started = Date.now();
      const pending = readFile(join(mnt, 'data', 'big.bin'));
      await new Promise((r) => setTimeout(r, OUTAGE_S * 1000));
      const refusedDuringOutage = server.seen.refused;
      server.faults.down = false;
      const big = await pending;
      assert.ok(Date.now() - started >= OUTAGE_S * 1000, 'the read waited for the server');
      assert.equal(sha(big), sha(images.big));
      assert.ok(refusedDuringOutage > 0, 'requests were tried during the outage');
      assert.equal(await readFile(join(mnt, 'etc', 'hostname'), 'utf8'), 'remote-guest\n');
    });
  } finally {
    await server.stop();
  }
});
