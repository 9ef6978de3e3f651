#!/usr/bin/env node
/**
 * `npm run build`, after tsc: bundle every command (each `cli/*.ts` that starts with a
 * shebang) from tsc's output into `dist/bin/NAME.js`, which package.json's `bin` points to.
 * Loading one bundle instead of ~150 modules is most of a command's start-up. Code split
 * behind `await import()` (format and filesystem drivers, filters) lands in shared chunks
 * under `dist/bin/chunks/`, loaded only by the images that need it. npm packages stay
 * external: fuse-native is native code, the rest load lazily.
 */
import { chmod, copyFile, readdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const commands = [];
for (const file of (await readdir(join(root, 'cli'))).sort()) {
  if (file.endsWith('.ts') && (await readFile(join(root, 'cli', file), 'utf8')).startsWith('#!')) commands.push(file.slice(0, -3));
}
const outdir = join(root, 'dist', 'bin');
await rm(outdir, { recursive: true, force: true }); // no stale chunks
await build({
  entryPoints: Object.fromEntries(commands.map((c) => [c, join(root, 'dist', 'cli', `${c}.js`)])),
  outdir,
  bundle: true,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
});
await Promise.all(commands.map((c) => chmod(join(outdir, `${c}.js`), 0o755)));
// Shell launchers (cli/NAME.sh) are installed as dist/bin/NAME, next to the bundle they start.
for (const file of (await readdir(join(root, 'cli'))).filter((f) => f.endsWith('.sh'))) {
  await copyFile(join(root, 'cli', file), join(outdir, file.slice(0, -3)));
  await chmod(join(outdir, file.slice(0, -3)), 0o755);
}
console.log(`bundled ${commands.length} commands into dist/bin: ${commands.join(', ')}`);
