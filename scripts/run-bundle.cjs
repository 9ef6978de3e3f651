'use strict';
/**
 * Runs a command's bundle (dist/bin/NAME.bundle.js) with V8's code cache for it
 * (dist/bin/NAME.cache), which `npm run build` makes by running each command on the demo
 * disks (scripts/train-code-cache.mjs). Compiling the ~450 KB bundle, and then each function
 * it calls, was a third of a command's own start-up; with the cache V8 deserialises the code
 * instead. A cache that does not fit this Node (another V8 version or flags) is rejected by V8
 * and the bundle compiles as it would without one. Installed as dist/bin/run-bundle.js; each
 * dist/bin/NAME.js is two lines that call it, and a command loads the npm packages bundled on
 * their own (undici.bundle.js…) through it too, getting their exports back.
 */
const { readFileSync, renameSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const { dirname } = require('node:path');
const { Script } = require('node:vm');

/** Set while training: write the cache, with every function this run compiled, at exit. */
const TRAIN = 'GUESTKIT_TRAIN_CODE_CACHE';

module.exports = function runBundle(file) {
  const cacheFile = file.replace(/\.bundle\.js$/, '.cache');
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // No cache (a build that skipped training): compile as Node would.
  }
  const script = new Script(Module.wrap(readFileSync(file, 'utf8')), { filename: file, cachedData });
  if (process.env[TRAIN]) {
    process.once('exit', () => {
      // Worker threads of one process train the same cache: a name of their own each.
      const tmp = `${cacheFile}.${process.pid}.${require('node:worker_threads').threadId}`;
      writeFileSync(tmp, script.createCachedData());
      renameSync(tmp, cacheFile);
    });
  }
  const mod = new Module(file, module);
  mod.filename = file;
  script.runInThisContext()(mod.exports, Module.createRequire(file), mod, file, dirname(file));
  return mod.exports;
};
