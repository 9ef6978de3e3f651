#!/usr/bin/env node
/**
 * `npm run build`, after tsc: bundle every command (each `cli/*.ts` that starts with a
 * shebang) from tsc's output into `dist/bin/NAME.js`, which package.json's `bin` points to.
 * Loading one bundle instead of ~150 modules is most of a command's start-up. The bundles
 * are CommonJS, one file per command (dist/bin/package.json says so): Node's ESM loader
 * (resolving, linking and its own modules) cost a guestmount daemon about 100 ms more to
 * start than the same code as one CommonJS file. Modules behind `await import()` (format
 * and filesystem drivers, filters) are in the file but run only when first imported.
 * npm packages stay external: fuse-native is native code, the rest load lazily.
 */
import { chmod, copyFile, readdir, readFile, rm, writeFile } from 'node:fs/promises';
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
await rm(outdir, { recursive: true, force: true }); // no stale files
await build({
  entryPoints: Object.fromEntries([...commands, ...workers].map((c) => [c, join(root, 'dist', 'cli', `${c}.js`)])),
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
});
await writeFile(join(outdir, 'package.json'), '{ "type": "commonjs" }\n');
await Promise.all(commands.map((c) => chmod(join(outdir, `${c}.js`), 0o755)));
// Shell launchers (cli/NAME.sh) are installed as dist/bin/NAME, next to the bundle they start.
for (const file of (await readdir(join(root, 'cli'))).filter((f) => f.endsWith('.sh'))) {
  await copyFile(join(root, 'cli', file), join(outdir, file.slice(0, -3)));
  await chmod(join(outdir, file.slice(0, -3)), 0o755);
}
console.log(`bundled ${commands.length} commands into dist/bin: ${commands.join(', ')}`);
