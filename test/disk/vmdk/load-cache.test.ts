import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LoadCache } from '../../../disk/vmdk/load-cache.js';

test('vmdk LoadCache: bounded by cost, least recently used out first, failed loads retried', async () => {
  const cache = new LoadCache<string, string>(3000);
  let loads = 0;
  const load = (v: string) => () => {
    loads++;
    return Promise.resolve(v);
  };
  await cache.get('a', 1000, load('a'));
  await cache.get('b', 1000, load('b'));
  await cache.get('c', 1000, load('c'));
  assert.equal(await cache.get('a', 1000, load('x')), 'a', 'a hit does not load');
  await cache.get('d', 1000, load('d')); // over budget: b is the least recently used
  assert.deepEqual(['a', 'b', 'c', 'd'].map((k) => cache.has(k)), [true, false, true, true]);
  assert.equal(loads, 4);
  // One entry over the whole budget stays alone while it is the newest.
  await cache.get('huge', 10_000, load('huge'));
  assert.deepEqual(['a', 'c', 'd', 'huge'].map((k) => cache.has(k)), [false, false, false, true]);
  // Concurrent misses share one load; a failure is not cached.
  let fails = 0;
  const failing = () => {
    fails++;
    return Promise.reject(new Error('bad table'));
  };
  await assert.rejects(Promise.all([cache.get('e', 10, failing), cache.get('e', 10, failing)]), /bad table/);
  assert.equal(fails, 1);
  await new Promise((r) => setImmediate(r));
  assert.equal(cache.has('e'), false);
  assert.equal(await cache.get('e', 10, load('e')), 'e');
});
