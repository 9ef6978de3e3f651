#!/usr/bin/env node
/**
 * Compile disk/crc.wat with wabt's wat2wasm (Debian `wabt`) into disk/crc-wasm.ts, the bytes
 * disk/crc.ts instantiates. Run after changing the .wat; test/disk/crc.test.ts fails while
 * the two disagree. `--check` only compares, for that test.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'disk', 'crc-wasm.ts');
const bytes = execFileSync('wat2wasm', [join(root, 'disk', 'crc.wat'), '--output=-']);
const text = `/** disk/crc.wat compiled by \`node scripts/wat.mjs\` (wat2wasm ${execFileSync('wat2wasm', ['--version']).toString().trim()}); do not edit. */
export const CRC_WASM = '${bytes.toString('base64')}';
`;
if (process.argv[2] === '--check') {
  // The bytes, not the header line: another wabt version may compile the same bytes.
  if (!readFileSync(target, 'utf8').includes(`'${bytes.toString('base64')}'`)) {
    console.error(`${target} is not what disk/crc.wat compiles to: run node scripts/wat.mjs`);
    process.exit(1);
  }
} else {
  writeFileSync(target, text);
}
