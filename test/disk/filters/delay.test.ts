import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { delay } from '../../../disk/filters/delay.js';
import { RawFile } from '../../../disk/raw.js';
import { checkRandomReads, randomImage } from './helpers.js';

async function elapsed(call: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await call();
  return performance.now() - t0;
}

test('delay: reads and writes wait at least the configured time; bytes pass unchanged', async () => {
  const { path, data } = await randomImage('delay', 65536);
  const dev = delay(await RawFile.open(path, true), { read: 40, write: 70 });
  assert.ok((await elapsed(() => dev.read(0n, 10))) >= 40);
  assert.ok((await elapsed(() => dev.write(0n, Buffer.from('x')))) >= 70);
  assert.ok((await elapsed(() => dev.read(0n, 10))) >= 40);
  // flush has no delay configured: it may take any time, only the result matters here.
  await dev.flush();
  data[0] = 'x'.charCodeAt(0);
  await checkRandomReads(delay(dev, {}), data, 20, 2, 4096);
  await dev.close();
});

test('delay: bad values are refused', async () => {
  const { path } = await randomImage('delay-bad', 4096);
  const dev = await RawFile.open(path);
  assert.throws(() => delay(dev, { read: -1 }), /delay for read must be 0 to 3600000 ms, not -1/);
  await dev.close();
});
