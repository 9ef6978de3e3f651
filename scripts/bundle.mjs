#!/usr/bin/env node
/**
 * `npm run build`, after tsc: bundle every command (each `cli/*.ts` that starts with a
 * shebang) from tsc's output into `dist/bin/NAME.bundle.js`, started by `dist/bin/NAME.js`
 * (which package.json's `bin` points to).
 * Loading one bundle instead of ~150 modules is most of a command's start-up. The bundles
 * are CommonJS, one file per command (dist/bin/package.json says so): Node's ESM loader
 * (resolving, linking and its own modules) cost a guestmount daemon about 100 ms more to
 * start than the same code as one CommonJS file. Modules behind `await import()` (format
 * and filesystem drivers, filters) are in the file but run only when first imported.
 * npm packages stay external and load lazily through `require`, except those in BUNDLED
 * below and the remote ones in PACKAGE_BUNDLES, which are bundles of their own. No `import()`
 * is left in a bundle, since the code-cache loader runs bundles as scripts, which cannot
 * import. NAME.js starts the bundle through run-bundle.js (scripts/run-bundle.cjs) with its
 * code cache, made later by scripts/train-code-cache.mjs.
 */
import { chmod, copyFile, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const commands = [];
for (const file of (await readdir(join(root, 'cli'))).sort()) {
  if (file.endsWith('.ts') && (await readFile(join(root, 'cli', file), 'utf8')).startsWith('#!')) commands.push(file.slice(0, -3));
}
/** Worker-thread entry points, started from a command by file name, so bundled beside them. */
const workers = ['inspect-worker'];
const outdir = join(root, 'dist', 'bin');
/**
 * Packages bundled: the ESM-only ones, because `require` cannot load them on Node 20, and
 * fuse-native's JavaScript, because loading it (and node-gyp-build's search for its native
 * part) was a fifth of a guestmount daemon's start; in the bundle the code cache holds it.
 */
const BUNDLED = /^(p-limit|yocto-queue|fuse-native|nanoresource)$/;
/**
 * Edits to fuse-native's index.js as bundled; the build fails if one no longer matches.
 * - It finds its native part through node-gyp-build, from its own directory: from the
 *   bundle's, it asks for it by name (its prebuilds are named by platform and arch).
 * - child_process (~10 ms to load) and fuse-shared-library (which loads it too) serve only
 *   its static helpers (Fuse.unmount, configure…), which guestkit does not call: they load
 *   when first called.
 */
const FUSE_EDITS = [
  ["require('node-gyp-build')(__dirname)", "require(['fuse-native/prebuilds', process.platform + '-' + process.arch, 'node.napi.node'].join('/'))"],
  ["const { exec } = require('child_process')", "const exec = (...args) => require('child_process').exec(...args)"],
  ["const { beforeMount, beforeUnmount, configure, unconfigure, isConfigured } = require('fuse-shared-library')",
    "const [beforeMount, beforeUnmount, configure, unconfigure, isConfigured] = ['beforeMount', 'beforeUnmount', 'configure', 'unconfigure', 'isConfigured']"
    + ".map((name) => (...args) => require('fuse-shared-library')[name](...args))"],
];
/** The BUNDLED packages resolved into the bundle (not left external), fuse-native edited. */
const bundledPackages = {
  name: 'bundled-packages',
  setup(b) {
    b.onResolve({ filter: BUNDLED }, (a) => ({ path: createRequire(a.importer).resolve(a.path) }));
    b.onLoad({ filter: /fuse-native[/\\]index\.js$/ }, async (a) => {
      let code = await readFile(a.path, 'utf8');
      for (const [from, to] of FUSE_EDITS) {
        if (!code.includes(from)) throw new Error(`${a.path}: no ${from} to replace (a new fuse-native?)`);
        code = code.replace(from, to);
      }
      return { contents: code, loader: 'js' };
    });
  },
};
/**
 * Packages a remote disk needs, each bundled into dist/bin/NAME.bundle.js with a code cache of
 * its own (trained on a disk served over HTTP): loading undici from node_modules was a third
 * of a remote command's start (~35 ms), and in every command's bundle it slowed the start of
 * local ones (~5 ms: a three times bigger code cache to read).
 */
const PACKAGE_BUNDLES = ['undici', 'tough-cookie'];
/**
 * `await import('pkg')` of an external package becomes a lazy `require('pkg')`; of one in
 * PACKAGE_BUNDLES, its bundle run through run-bundle.js with its code cache.
 */
const lazyRequire = {
  name: 'lazy-require',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (a) => (a.kind === 'dynamic-import' ? { path: a.path, namespace: 'lazy-require' } : undefined));
    // Installed beside the bundles (dist/bin), found there at run time.
    b.onResolve({ filter: /^\.\/run-bundle\.js$/, namespace: 'lazy-require' }, (a) => ({ path: a.path, external: true }));
    b.onLoad({ filter: /.*/, namespace: 'lazy-require' }, (a) => ({
      contents: PACKAGE_BUNDLES.includes(a.path)
        ? `module.exports = require('./run-bundle.js')(require('node:path').join(__dirname, ${JSON.stringify(`${a.path}.bundle.js`)}));`
        : `module.exports = require(${JSON.stringify(a.path)});`,
      resolveDir: root,
    }));
  },
};
await rm(outdir, { recursive: true, force: true }); // no stale files
await build({
  entryPoints: Object.fromEntries([...commands, ...workers].map((c) => [`${c}.bundle`, join(root, 'dist', 'cli', `${c}.js`)])),
  outdir,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  // import.meta.url, as CommonJS can give it: the bundle's own file. The banner comes before
  // esbuild's own "use strict", so it carries one too (ESM code is strict code).
  define: { 'import.meta.url': '__importMetaUrl' },
  banner: { js: '"use strict";\nconst __importMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
  plugins: [bundledPackages, lazyRequire],
});
await build({
  entryPoints: Object.fromEntries(PACKAGE_BUNDLES.map((p) => [`${p}.bundle`, createRequire(join(root, 'package.json')).resolve(p)])),
  outdir,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
});
await writeFile(join(outdir, 'package.json'), '{ "type": "commonjs" }\n');
await copyFile(join(root, 'scripts', 'run-bundle.cjs'), join(outdir, 'run-bundle.js'));
for (const c of [...commands, ...workers, ...PACKAGE_BUNDLES]) {
  const bundle = join(outdir, `${c}.bundle.js`);
  // The loader wraps the bundle as a function body, where a #! line is a syntax error.
  const code = (await readFile(bundle, 'utf8')).replace(/^#!.*\n/, '');
  if (/\bimport\(/.test(code)) throw new Error(`${bundle}: an import() is left, which a script cannot run`);
  await writeFile(bundle, code);
  if (PACKAGE_BUNDLES.includes(c)) continue;
  const shebang = commands.includes(c) ? '#!/usr/bin/env node\n' : '';
  await writeFile(join(outdir, `${c}.js`), `${shebang}'use strict';\nrequire('./run-bundle.js')(\`\${__dirname}/${c}.bundle.js\`);\n`);
}
await Promise.all(commands.map((c) => chmod(join(outdir, `${c}.js`), 0o755)));
// Shell launchers (cli/NAME.sh) are installed as dist/bin/NAME, next to the bundle they start.
for (const file of (await readdir(join(root, 'cli'))).filter((f) => f.endsWith('.sh'))) {
  await copyFile(join(root, 'cli', file), join(outdir, file.slice(0, -3)));
  await chmod(join(outdir, file.slice(0, -3)), 0o755);
}
console.log(`bundled ${commands.length} commands into dist/bin: ${commands.join(', ')}`);
