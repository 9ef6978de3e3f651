/**
 * The remote stack reuses memory at two levels: each connection reads into a ring
 * (remote/read-ring.ts; vcsim.test.ts checks it over TLS) and the readahead windows come from
 * a pool (disk/filters/buffer-pool.ts).
 * Neither may ever change bytes a caller was given: every buffer handed out is kept to the end
 * and compared with the file then, after the rings have wrapped and the windows been reused
 * many times over.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prng } from '../../disk/filters/prng.js';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { HttpDevice } from '../../remote/http-device.js';
import { openRemote } from '../../remote/open.js';
import { fromBuffer, startFaultServer } from './fault-server.js';
import { readPaused } from './paused-reader.js';

const SIZE = 24 << 20;
const DATA = Buffer.allocUnsafe(SIZE);
{
  const rng = prng(11);
  for (let i = 0; i < SIZE; i += 4) DATA.writeUInt32LE(Math.floor(rng() * 2 ** 32), i);
}

interface Kept {
  offset: number;
  data: Buffer;
}

function checkAll(kept: Kept[]): void {
  for (const k of kept) assert.ok(k.data.equals(DATA.subarray(k.offset, k.offset + k.data.length)), `bytes at ${k.offset} (${k.data.length}) changed after they were read`);
}

test('concurrent overlapping readers keep their bytes while rings wrap and windows are reused', async () => {
  const server = await startFaultServer(BigInt(SIZE), fromBuffer(DATA));
  const dev = await openRemote(server.url, { connections: 3, requestSize: 256 << 10, readahead: 64 << 10, readaheadMax: 2 << 20, cacheSize: 1 << 20 });
  try {
    const kept: Kept[] = [];
    const read = async (offset: number, length: number) => {
      const data = await dev.read(BigInt(offset), length);
      assert.equal(data.length, length);
      kept.push({ offset, data });
    };
    // A copy's reader: `depth` reads in flight, issued in order, so the readahead sees them
    // as sequential; below 1 MiB through the block cache, from 1 MiB past it.
    const copy = async (start: number, end: number, chunk: number, depth: number) => {
      let next = start;
      const worker = async () => {
        while (next + chunk <= end) {
          const off = next;
          next += chunk;
          await read(off, chunk);
        }
      };
      await Promise.all(Array.from({ length: depth }, worker));
    };
    // Small random reads, as inspection makes, some overlapping what the copies read.
    const rng = prng(5);
    const random = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const off = Math.floor(rng() * (SIZE - 70_000));
        await read(off, 1 + Math.floor(rng() * 70_000));
      }
    };
    await copy(4096, (20 << 20) + 4096, 1 << 20, 3);
    await Promise.all([random(100), random(100)]);
    await copy(0, 8 << 20, 128 << 10, 4);
    await Promise.all([copy(16 << 20, SIZE, 256 << 10, 2), random(50)]);
    checkAll(kept);
    // The rings wrapped many times (2 MiB slabs), never needing a fresh slab.
    assert.ok(dev.http.rings.laps >= 8, `${dev.http.rings.laps} laps`);
    assert.equal(dev.http.rings.freshSlabs, 0);
  } finally {
    await dev.close();
    await server.stop();
  }
});

test('a read ring never overwrites bytes a paused reader has not taken yet', async () => {
  const server = createServer((s) => s.end(DATA));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const { port } = server.address() as AddressInfo;
    const { bytes, counts } = await readPaused({}, { hostname: '127.0.0.1', port: String(port), protocol: 'http:' });
    assert.ok(bytes.equals(DATA));
    assert.ok(counts.laps >= 8, `${counts.laps} laps`);
  } finally {
    server.close();
  }
});

test('readInto fills a caller buffer; reads into one reused buffer each return the right bytes', async () => {
  const server = await startFaultServer(BigInt(SIZE), fromBuffer(DATA));
  const dev = await HttpDevice.open(new URL(server.url), { requestSize: 1 << 20 });
  try {
    const buf = Buffer.alloc(3 << 20);
    for (const off of [0, 5 << 20, SIZE - buf.length, 12345]) {
      await dev.readInto(BigInt(off), buf);
      assert.ok(buf.equals(DATA.subarray(off, off + buf.length)), `bytes at ${off}`);
    }
    await assert.rejects(dev.readInto(BigInt(SIZE - 10), Buffer.alloc(11)), /outside the device/);
  } finally {
    await dev.close();
    await server.stop();
  }
});

test('readInto through the remote stack: a copy into reused buffers, with reads kept meanwhile', async () => {
  const server = await startFaultServer(BigInt(SIZE), fromBuffer(DATA));
  const dev = await openRemote(server.url, { connections: 3, requestSize: 256 << 10, readaheadMax: 2 << 20, cacheSize: 1 << 20 });
  try {
    assert.ok(dev.readInto);
    const kept: Kept[] = [];
    let next = 0;
    // Two workers, each with one buffer it reads into again and again (sizes below and
    // above the cache's bypass), checked after every read.
    const worker = async (chunk: number) => {
      const buf = Buffer.allocUnsafe(chunk);
      while (next + chunk <= SIZE) {
        const off = next;
        next += chunk;
        await dev.readInto!(BigInt(off), buf);
        assert.ok(buf.equals(DATA.subarray(off, off + chunk)), `bytes at ${off}`);
      }
    };
    const rng = prng(9);
    const others = async () => {
      for (let i = 0; i < 100; i++) {
        const off = Math.floor(rng() * (SIZE - 70_000));
        kept.push({ offset: off, data: await dev.read(BigInt(off), 1 + Math.floor(rng() * 70_000)) });
      }
    };
    await Promise.all([worker(1 << 20), worker(1 << 20), others()]);
    next = 0;
    await worker(300_000);
    checkAll(kept);
    await assert.rejects(dev.readInto!(BigInt(SIZE - 10), Buffer.alloc(11)), /outside the device/);
  } finally {
    await dev.close();
    await server.stop();
  }
});
