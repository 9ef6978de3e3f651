import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Lru } from '../../disk/lru.js';

test('Lru.load: bounded by cost, least recently used out first, failed loads retried', async () => {
  const cache = new Lru<string, Promise<string>>(3000);
  let loads = 0;
  const load = (v: string) => () => {
    loads++;
    return Promise.resolve(v);
  };
  await cache.load('a', 1000, load('a'));
  await cache.load('b', 1000, load('b'));
  await cache.load('c', 1000, load('c'));
  assert.equal(await cache.load('a', 1000, load('x')), 'a', 'a hit does not load');
  await cache.load('d', 1000, load('d')); // over budget: b is the least recently used
  assert.deepEqual(['a', 'b', 'c', 'd'].map((k) => cache.has(k)), [true, false, true, true]);
  assert.equal(loads, 4);
  // One entry over the whole budget stays alone while it is the newest.
  await cache.load('huge', 10_000, load('huge'));
  assert.deepEqual(['a', 'c', 'd', 'huge'].map((k) => cache.has(k)), [false, false, false, true]);
  // Concurrent misses share one load; a failure is not cached.
  let fails = 0;
  const failing = () => {
    fails++;
    return Promise.reject(new Error('bad table'));
  };
  await assert.rejects(Promise.all([cache.load('e', 10, failing), cache.load('e', 10, failing)]), /bad table/);
  assert.equal(fails, 1);
  await new Promise((r) => setImmediate(r));
  assert.equal(cache.has('e'), false);
  assert.equal(await cache.load('e', 10, load('e')), 'e');
});

test('Lru: counted entries, least recently used out first; peek does not refresh', () => {
  const lru = new Lru<number, string>(2);
  lru.set(1, 'a');
  lru.set(2, 'b');
  assert.equal(lru.peek(1), 'a');
  lru.set(3, 'c'); // 1 is still the oldest: peek did not refresh it
  assert.deepEqual([1, 2, 3].map((k) => lru.has(k)), [false, true, true]);
  assert.equal(lru.get(2), 'b');
  lru.set(4, 'd'); // 3 is now the oldest
  assert.deepEqual([2, 3, 4].map((k) => lru.has(k)), [true, false, true]);
  assert.equal(lru.delete(2), true);
  assert.equal(lru.size, 1);
});
