import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import Module from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

const bin = fileURLToPath(new URL('../../bin/', import.meta.url));

test('code cache: every command bundle, and each package bundled on its own, has a V8 code cache from the build, and this Node accepts it', async () => {
  const bundles = (await readdir(bin)).filter((f) => f.endsWith('.bundle.js'));
  assert.ok(bundles.includes('virt-inspector.bundle.js') && bundles.includes('guestmount.bundle.js'), bundles.join(' '));
  for (const bundle of bundles.filter((b) => b !== 'inspect-worker.bundle.js')) {
    const file = join(bin, bundle);
    const cachedData = await readFile(file.replace(/\.bundle\.js$/, '.cache'));
    // As run-bundle.js compiles it: the same wrapper, file name and source.
    const script = new Script(Module.wrap(await readFile(file, 'utf8')), { filename: file, cachedData });
    assert.equal(script.cachedDataRejected, false, `${bundle}: V8 rejected its cache`);
  }
  // Trained on the demo disks, the inspector's cache holds far more than its top-level code.
  const inspector = await readFile(join(bin, 'virt-inspector.cache'));
  assert.ok(inspector.length > 200_000, `virt-inspector.cache is ${inspector.length} bytes`);
  // undici is bundled on its own, its cache trained on a disk read over HTTP.
  const undici = await readFile(join(bin, 'undici.cache'));
  // Loading it alone makes ~360 KB; reading over HTTP compiles its request path too (~500 KB).
  assert.ok(undici.length > 420_000, `undici.cache is ${undici.length} bytes`);
});
