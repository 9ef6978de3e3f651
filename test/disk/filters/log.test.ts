import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { log, type LogEntry } from '../../../disk/filters/log.js';
import { RawFile } from '../../../disk/raw.js';
import { checkRandomReads, randomImage } from './helpers.js';

test('log: one JSON line per request with op, offset, length, time and errors', async () => {
  const { path, data, dir } = await randomImage('log-file', 65536);
  const logPath = join(dir, 'requests.log');
  await writeFile(logPath, 'old line\n');
  const dev = log(await RawFile.open(path, true), { file: logPath });
  assert.ok((await dev.read(4096n, 100)).equals(data.subarray(4096, 4196)));
  await dev.write(512n, Buffer.alloc(1024, 1));
  await dev.flush();
  await dev.trim(0n, 4096n);
  assert.deepEqual(await dev.extents(0n, 65536n), [{ offset: 0n, length: 65536n, hole: false, zero: false }]);
  await assert.rejects(dev.read(65500n, 100), /outside the device/);
  await dev.close();

  const lines = (await readFile(logPath, 'utf8')).trimEnd().split('\n');
  const entries = lines.map((l) => JSON.parse(l) as LogEntry);
  assert.deepEqual(
    entries.map(({ id, op, offset, length, errno }) => ({ id, op, offset, length, errno })),
    [
      { id: 1, op: 'read', offset: 4096, length: 100, errno: undefined },
      { id: 2, op: 'write', offset: 512, length: 1024, errno: undefined },
      { id: 3, op: 'flush', offset: undefined, length: undefined, errno: undefined },
      { id: 4, op: 'trim', offset: 0, length: 4096, errno: undefined },
      { id: 5, op: 'extents', offset: 0, length: 65536, errno: undefined },
      { id: 6, op: 'read', offset: 65500, length: 100, errno: 'EIO' },
    ],
  );
  for (const e of entries) assert.ok(typeof e.ms === 'number' && e.ms >= 0, `ms of ${JSON.stringify(e)}`);
  assert.match(entries[5]!.error!, /read of 100 bytes at 65500 is outside the device of 65536 bytes/);
  assert.equal(entries[0]!.error, undefined);
});

test('log: append keeps the old lines; the callback sees each entry; bytes pass unchanged', async () => {
  const { path, data, dir } = await randomImage('log-append');
  const logPath = join(dir, 'requests.log');
  await writeFile(logPath, '{"old":true}\n');
  const seen: LogEntry[] = [];
  const dev = log(await RawFile.open(path), { file: logPath, append: true, onEntry: (e) => seen.push(e) });
  await checkRandomReads(dev, data, 50, 5);
  await dev.close();
  const lines = (await readFile(logPath, 'utf8')).trimEnd().split('\n');
  assert.equal(lines.length, 51);
  assert.deepEqual(JSON.parse(lines[0]!), { old: true });
  assert.deepEqual(lines.slice(1).map((l) => JSON.parse(l)), JSON.parse(JSON.stringify(seen)));
  assert.ok(seen.every((e) => e.op === 'read'));
});

test('log: a log file that cannot be opened is a clear error', async () => {
  const { path } = await randomImage('log-bad', 4096);
  const dev = await RawFile.open(path);
  assert.throws(() => log(dev, { file: '/nonexistent/dir/x.log' }), /\/nonexistent\/dir\/x.log: cannot open log file: ENOENT/);
  assert.throws(() => log(dev, {}), /log filter needs a file or an onEntry callback/);
  await dev.close();
});
