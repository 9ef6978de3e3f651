/** The man pages of guestmount and guestunmount render without warnings and name every option. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { BIN } from '../e2e/tools.js';

const MAN = join(BIN, '..', '..', 'man');
const OPTIONS: Record<string, string[]> = {
  'guestmount.1': ['-a', '--format', '-m', '-i', '--ro', '--rw', '-o', '--dir-cache-timeout', '--fd', '--pid-file', '--no-fork', '--filter', '-v', '-x', '--timings'],
  'guestunmount.1': ['--fd', '-q', '--no-retry', '--retry', '-v'],
};

for (const [page, options] of Object.entries(OPTIONS)) {
  test(`${page} renders with no warnings and documents every option`, async () => {
    const { stdout, stderr } = await promisify(execFile)('man', ['--warnings', '-l', join(MAN, page)], { env: { ...process.env, MANWIDTH: '80', MAN_KEEP_FORMATTING: '' } });
    assert.equal(stderr, '');
    const text = stdout.replace(/.\x08/g, '').replace(/‐/g, '-');
    for (const o of options) assert.ok(text.includes(o), `${page} documents ${o}`);
    assert.match(text, /EXIT STATUS/);
  });
}
