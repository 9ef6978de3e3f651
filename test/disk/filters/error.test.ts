import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { BlockDevice } from '../../../disk/block-device.js';
import { error } from '../../../disk/filters/error.js';
import { RawFile } from '../../../disk/raw.js';
import { checkRandomReads, randomImage } from './helpers.js';

/** Which of `n` one-byte reads failed, checking every failure's errno and text. */
async function failures(dev: BlockDevice, n: number, errno: string, text: RegExp): Promise<number[]> {
  const failed: number[] = [];
  for (let i = 0; i < n; i++) {
    try {
      await dev.read(BigInt(i), 1);
    } catch (e) {
      assert.equal((e as { code?: string }).code, errno);
      assert.match((e as Error).message, text);
      failed.push(i);
    }
  }
  return failed;
}

test('error: reads fail at the configured rate, repeatably for one seed', async () => {
  const { path } = await randomImage('error-rate', 65536);
  const file = await RawFile.open(path);
  const text = /disk\.img: injected error \(ENOSPC\) on read of 1 bytes \(at byte \d+\)$/;
  const a = await failures(error(file, { rate: 0.3, seed: 42, error: 'ENOSPC' }), 2000, 'ENOSPC', text);
  const b = await failures(error(file, { rate: 0.3, seed: 42, error: 'ENOSPC' }), 2000, 'ENOSPC', text);
  const c = await failures(error(file, { rate: 0.3, seed: 43, error: 'ENOSPC' }), 2000, 'ENOSPC', text);
  assert.ok(a.length > 500 && a.length < 700, `${a.length} of 2000 failed at rate 0.3`);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.deepEqual(await failures(error(file, { rate: 0 }), 200, 'EIO', /./), []);
  assert.equal((await failures(error(file, { rate: 1, message: 'disk on fire' }), 50, 'EIO', /disk on fire \(EIO\) on read/)).length, 50);
  await file.close();
});

test('error: only the chosen ops fail; other requests pass the bytes unchanged', async () => {
  const { path, data } = await randomImage('error-ops');
  const dev = error(await RawFile.open(path, true), { rate: 1, ops: ['write'], error: 'EPERM' });
  await checkRandomReads(dev, data, 50, 9);
  await assert.rejects(dev.write(0n, Buffer.from('x')), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'EPERM');
    assert.match(e.message, /injected error \(EPERM\) on write of 1 bytes \(at byte 0\)/);
    return true;
  });
  await dev.flush();
  await dev.close();
});

test('error: with a trigger file, requests fail exactly while the file exists', async () => {
  const { path, dir } = await randomImage('error-file', 8192);
  const trigger = join(dir, 'trigger');
  const dev = error(await RawFile.open(path), { file: trigger });
  await dev.read(0n, 10);
  await writeFile(trigger, '');
  await assert.rejects(dev.read(0n, 10), /injected error \(EIO\) on read of 10 bytes/);
  await assert.rejects(dev.read(100n, 10), /at byte 100/);
  await rm(trigger);
  await dev.read(0n, 10);
  await dev.close();
});

test('error: bad options are refused', async () => {
  const { path } = await randomImage('error-bad', 4096);
  const file = await RawFile.open(path);
  assert.throws(() => error(file, { error: 'EWHATEVER' }), /"EWHATEVER" is not an errno name/);
  assert.throws(() => error(file, { rate: 1.5 }), /rate 1.5 is not between 0 and 1/);
  await file.close();
});
