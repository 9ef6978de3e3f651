/** The HTTP device against a fault server of our own: retries, errors, request shapes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HttpDevice, type HttpOptions } from '../../remote/http-device.js';
import { openRemote } from '../../remote/open.js';
import { fromBuffer, startFaultServer, type FaultServer, type Faults } from './fault-server.js';
import { prng } from '../../disk/filters/prng.js';

const SIZE = 1 << 20;
const DATA = Buffer.alloc(SIZE);
for (let i = 0; i < SIZE; i += 4) DATA.writeUInt32LE((i * 7919) >>> 0, i);

const FAST: HttpOptions = { retry: { baseDelay: 2, maxDelay: 20, retries: 5, maxTime: 10_000 } };

async function withServer(faults: Faults, fn: (url: string, seen: FaultServer['seen'], faults: Faults) => Promise<void>): Promise<void> {
  const s = await startFaultServer(BigInt(SIZE), fromBuffer(DATA), faults);
  try {
    await fn(s.url, s.seen, s.faults);
  } finally {
    await s.stop();
  }
}

test('reads any range exactly, split into Range GETs of requestSize', async () => {
  await withServer({}, async (url, seen) => {
    const dev = await HttpDevice.open(new URL(url), { ...FAST, requestSize: 4096 });
    try {
      assert.equal(dev.size, BigInt(SIZE));
      assert.deepEqual(await dev.read(1000n, 20_000), DATA.subarray(1000, 21_000));
      const byStart = (r: string) => Number(/=(\d+)/.exec(r)?.[1]);
      assert.deepEqual(seen.ranges.sort((a, b) => byStart(a) - byStart(b)), ['bytes=1000-5095', 'bytes=5096-9191', 'bytes=9192-13287', 'bytes=13288-17383', 'bytes=17384-20999']);
      const rng = prng(7);
      for (let i = 0; i < 50; i++) {
        const off = Math.floor(rng() * (SIZE - 1));
        const len = 1 + Math.floor(rng() * Math.min(70_000, SIZE - off - 1));
        assert.deepEqual(await dev.read(BigInt(off), len), DATA.subarray(off, off + len));
      }
      await assert.rejects(dev.read(BigInt(SIZE - 10), 11), /outside the device/);
    } finally {
      await dev.close();
    }
  });
});

test('a reset mid-body and a burst of 503s are retried; the data is right', async () => {
  await withServer({ resetMidBody: 2, status503: 3 }, async (url) => {
    const dev = await HttpDevice.open(new URL(url), FAST);
    try {
      assert.deepEqual(await dev.read(4096n, 65536), DATA.subarray(4096, 4096 + 65536));
      // the HEAD met the three 503s, the GET the two resets
      assert.equal(dev.stats.retries, 5);
    } finally {
      await dev.close();
    }
  });
});

test('a stalled body times out and is retried', async () => {
  await withServer({ stall: 1, stallMs: 3000 }, async (url) => {
    const dev = await HttpDevice.open(new URL(url), { ...FAST, timeout: 300 });
    try {
      assert.deepEqual(await dev.read(0n, 1000), DATA.subarray(0, 1000));
      assert.equal(dev.stats.retries, 1);
    } finally {
      await dev.close();
    }
  });
});

test('503 without end: the error names the URL without credentials, the range, the last status', async () => {
  await withServer({}, async (url, _seen, faults) => {
    const dev = await HttpDevice.open(new URL(url), { ...FAST, user: 'alice', password: async () => 'pa55word' });
    try {
      faults.status503 = 1000;
      const err = await dev.read(8192n, 100).then(() => assert.fail('read'), (e: Error) => e);
      assert.match(err.message, /^http:\/\/127\.0\.0\.1:\d+\/disk\.img: read of bytes 8192-8291 failed after 6 attempts in [\d.]+ s; last: HTTP 503 \(at byte 8192\)$/);
      assert.doesNotMatch(err.message, /alice|pa55word|YWxp/);
    } finally {
      await dev.close();
    }
  });
  await withServer({ status503: 1000 }, async (url) => {
    const err = await HttpDevice.open(new URL(url), FAST).then(() => assert.fail('opened'), (e: Error) => e);
    assert.match(err.message, /: HEAD failed after 6 attempts in [\d.]+ s; last: HTTP 503$/);
  });
});

test('retries are bounded in time as well as in count', async () => {
  await withServer({ status503: 1000 }, async (url) => {
    const t0 = Date.now();
    const err = await HttpDevice.open(new URL(url), { retry: { retries: 1000, baseDelay: 50, maxDelay: 200, maxTime: 700 } }).then(() => assert.fail('opened'), (e: Error) => e);
    assert.ok(Date.now() - t0 < 2000, `gave up after ${Date.now() - t0} ms`);
    const attempts = Number(/after (\d+) attempts/.exec(err.message)?.[1]);
    assert.ok(attempts > 2 && attempts < 1000, err.message);
  });
});

test('a server that ignores Range is named as such, with the ways out', async () => {
  await withServer({ ignoreRange: true }, async (url) => {
    const dev = await HttpDevice.open(new URL(url), FAST);
    try {
      await assert.rejects(dev.read(0n, 512), (e: Error & { code?: string }) => {
        assert.match(e.message, /answered 200 with the whole file: the server ignores Range requests \(ESXi.*through vCenter.*copy the file first/);
        assert.equal(e.code, 'ENOTSUP');
        return true;
      });
    } finally {
      await dev.close();
    }
  });
  await withServer({ noAcceptRanges: true }, async (url) => {
    await assert.rejects(HttpDevice.open(new URL(url), FAST), /no "Accept-Ranges: bytes" in the HEAD answer: the server ignores Range requests/);
  });
});

test('a file that changes size, and a wrong Content-Range, are errors', async () => {
  await withServer({ growAfter: 1 }, async (url) => {
    const dev = await HttpDevice.open(new URL(url), FAST);
    try {
      await dev.read(0n, 512);
      await assert.rejects(dev.read(512n, 512), /the file changed size from 1048576 to 2097152 bytes while being read \(at byte 512\)/);
    } finally {
      await dev.close();
    }
  });
  await withServer({ shiftContentRange: true }, async (url) => {
    const dev = await HttpDevice.open(new URL(url), FAST);
    try {
      await assert.rejects(dev.read(100n, 10), /asked for bytes 100-109, the server sent Content-Range "bytes 101-110\/1048576"/);
    } finally {
      await dev.close();
    }
  });
});

test('concurrent reads of one region make one request; sequential reads grow the window', async () => {
  await withServer({}, async (url, seen) => {
    const dev = await openRemote(url, { retry: FAST.retry });
    try {
      const reads = await Promise.all(Array.from({ length: 8 }, () => dev.read(300_000n, 4096)));
      for (const r of reads) assert.deepEqual(r, DATA.subarray(300_000, 304_096));
      assert.deepEqual(seen.ranges, ['bytes=262144-327679']);
      // Inspection-sized reads stay small ...
      seen.ranges.length = 0;
      await dev.read(700_000n, 512);
      assert.deepEqual(seen.ranges, ['bytes=655360-720895']);
      // ... a sequential scan fetches ever larger windows.
      seen.ranges.length = 0;
      for (let off = 0; off < SIZE; off += 32768) assert.deepEqual(await dev.read(BigInt(off), 32768), DATA.subarray(off, off + 32768));
      const sizes = seen.ranges.map((r) => {
        const [a, b] = r.slice(6).split('-').map(Number);
        return b! - a! + 1;
      });
      assert.ok(Math.max(...sizes) >= 256 << 10, `largest request ${Math.max(...sizes)}: ${seen.ranges.join(' ')}`);
      assert.ok(seen.ranges.length < 12, `${seen.ranges.length} requests for 1 MiB`);
    } finally {
      await dev.close();
    }
  });
});
