import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RwLock } from '../../fs/rw-lock.js';

const tick = () => new Promise((r) => setImmediate(r));

test('RwLock: readers share, a writer is alone, and a waiting writer holds back later readers (FIFO)', async () => {
  const lock = new RwLock();
  const log: string[] = [];
  let inside = 0;
  let writerInside = false;
  const job = (name: string, exclusive: boolean, ticks: number) => (exclusive ? lock.exclusive.bind(lock) : lock.shared.bind(lock))(async () => {
    assert.ok(!writerInside, `${name} entered while a writer is inside`);
    if (exclusive) assert.equal(inside, 0, `${name} entered with others inside`);
    inside++;
    writerInside = exclusive;
    log.push(`+${name}`);
    for (let i = 0; i < ticks; i++) await tick();
    log.push(`-${name}`);
    inside--;
    writerInside = false;
    return name;
  });
  const all = [job('r1', false, 3), job('r2', false, 3), job('w1', true, 2), job('r3', false, 1), job('w2', true, 1), job('r4', false, 1), job('r5', false, 1)];
  assert.deepEqual(await Promise.all(all), ['r1', 'r2', 'w1', 'r3', 'w2', 'r4', 'r5']);
  // r1 and r2 together; w1 waits for both; r3 (queued behind w1) waits for w1 although readers were inside; then w2; then r4 and r5 together.
  assert.deepEqual(log, ['+r1', '+r2', '-r1', '-r2', '+w1', '-w1', '+r3', '-r3', '+w2', '-w2', '+r4', '+r5', '-r4', '-r5']);
});

test('RwLock: a failing call releases the lock and its error reaches the caller', async () => {
  const lock = new RwLock();
  await assert.rejects(lock.exclusive(async () => { throw new Error('boom'); }), /boom/);
  await assert.rejects(lock.shared(async () => { throw new Error('bang'); }), /bang/);
  assert.equal(await lock.exclusive(async () => 'free'), 'free');
});

test('RwLock: a stream of readers does not starve a writer', async () => {
  const lock = new RwLock();
  let stop = false;
  let reads = 0;
  const reader = async () => {
    while (!stop) await lock.shared(async () => { reads++; await tick(); });
  };
  const readers = Array.from({ length: 8 }, reader);
  await tick();
  await lock.exclusive(async () => { stop = true; });
  await Promise.all(readers);
  assert.ok(reads < 100, `the writer got in after ${reads} reads`);
});
