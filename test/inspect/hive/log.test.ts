import assert from 'node:assert/strict';
import { copyFile, readFile, rm, writeFile } from 'node:fs/promises';
import { test } from 'node:test';
import { Hive, HiveError } from '../../../inspect/hive/hive.js';
import { replayLogs } from '../../../inspect/hive/log.js';
import { marvin32 } from '../../../inspect/hive/marvin32.js';
import { fixture } from '../../fixtures/cache.js';
import { run } from '../../fixtures/run.js';
import { smallHive } from './images.js';
import { changedPages, dirtLog, dirtyPrimary, hvle, logBaseBlock } from './logs.js';
import { hivexExport, renderHive } from './reg.js';

test('Marvin32 gives the published test vectors', () => {
  // SymCrypt's / .NET's vectors for seed 0x004FB61A001BDBCC.
  const vectors: [string, bigint][] = [
    ['', 0x30ed35c100cd3c7dn], ['af', 0x48e73fc77d75ddc1n], ['e70f', 0xb5f6e1fc485dbff8n],
    ['37f495', 0xf0b07c789b8cf7e8n], ['8642dc59', 0x7008f2e87e9cf556n], ['153fb79826', 0xe6c08c6da2afa997n],
    ['0932e6246c47', 0x6f04bf1a5ea24060n], ['ab427ea8d10fc7', 0xe11847e4f0678c41n],
  ];
  for (const [hex, want] of vectors) assert.equal(marvin32(Buffer.from(hex, 'hex'), 0x004fb61a001bdbccn), want, hex);
});

/** The small hive (before), and the same hive after hivexregedit merged changes into it (after): a new hbin, changed and new values. */
async function beforeAndAfter(): Promise<{ before: Buffer; after: Buffer; afterPath: string }> {
  const { path } = await smallHive();
  const afterPath = await fixture('small-after.hive', 'smallHive + changes v1', async (out) => {
    await copyFile(path, out);
    const reg = `${out}.reg`;
    const big = Buffer.alloc(9000, 0x5a).toString('hex').replace(/..(?!$)/g, '$&,');
    await writeFile(reg, ['Windows Registry Editor Version 5.00', '', '[\\A]', '"s"=hex(1):63,00,68,00,00,00', '"added"=dword:0000002a', '',
      '[\\New]', `"big"=hex(3):${big}`, '', '[\\New\\Deeper]', '"x"=hex(1):79,00,00,00', ''].join('\n'));
    try {
      await run('hivexregedit', ['--merge', out, reg]);
    } finally {
      await rm(reg, { force: true });
    }
  });
  const before = await readFile(path);
  const after = await readFile(afterPath);
  assert.ok(after.readUInt32LE(40) > before.readUInt32LE(40), 'the changes grew the hive by an hbin');
  return { before, after, afterPath };
}

test('new-format logs (HvLE, LOG1 then LOG2) replay a dirty hive into what Windows would load', async () => {
  const { before, after, afterPath } = await beforeAndAfter();
  const primary = dirtyPrimary(before);
  const seq = primary.readUInt32LE(8);
  const bins = after.readUInt32LE(40);
  const pages = changedPages(before, after, 4096);
  assert.ok(pages.length >= 2);
  const half = Math.ceil(pages.length / 2);
  const garbage = [{ offset: 0, data: Buffer.alloc(4096, 0xee) }];
  // LOG1: a stale entry (already in the primary: sequence before the secondary), then the first half.
  const log1 = Buffer.concat([logBaseBlock(after, 6, seq + 1, bins), hvle(seq - 1, bins, garbage), hvle(seq, bins, pages.slice(0, half))]);
  // LOG2: the second half, then an entry whose hash was broken by a torn write: the replay stops before it.
  const torn = hvle(seq + 2, bins, garbage);
  torn[100]! ^= 1;
  const log2 = Buffer.concat([logBaseBlock(after, 6, seq + 2, bins), hvle(seq + 1, bins, pages.slice(half)), torn]);

  const hive = Hive.parse(primary, 'SYSTEM', [{ name: 'SYSTEM.LOG1', bytes: log1 }, { name: 'SYSTEM.LOG2', bytes: log2 }]);
  assert.deepEqual(hive.replayed, [`SYSTEM.LOG1: 1 entry (sequence ${seq})`, `SYSTEM.LOG2: 1 entry (sequence ${seq + 1})`]);
  assert.equal(renderHive(hive), await hivexExport(afterPath));
  assert.equal(hive.dirty, true);
  assert.throws(() => hive.setValue(hive.root, 'x', 4, Buffer.alloc(4)), (e: Error) => e instanceof HiveError && /replayed in memory only/.test(e.message));
  assert.ok(primary.equals(dirtyPrimary(before)), 'the primary bytes are not changed');

  // The second half's hash broken: only LOG1's entry applies, and the result is not the finished hive.
  const bad = Buffer.from(log2);
  bad[512 + 200]! ^= 1;
  const partial = replayLogs(primary, 'SYSTEM', [{ name: 'SYSTEM.LOG1', bytes: log1 }, { name: 'SYSTEM.LOG2', bytes: bad }])!;
  assert.deepEqual(partial.applied, [`SYSTEM.LOG1: 1 entry (sequence ${seq})`]);
  assert.ok(partial.bytes.subarray(4096 + pages[half]!.offset, 4096 + pages[half]!.offset + 4096).equals(Buffer.alloc(4096)), 'the second half is not applied');
});

test('an old-format log (DIRT bitmap of 512-byte pages) replays a dirty hive', async () => {
  const { before, after, afterPath } = await beforeAndAfter();
  const primary = dirtyPrimary(before);
  const pages = changedPages(before, after, 512);
  const log = dirtLog(primary, after, pages);
  const hive = Hive.parse(primary, 'SOFTWARE', [{ name: 'SOFTWARE.LOG', bytes: log }]);
  assert.deepEqual(hive.replayed, [`SOFTWARE.LOG: ${pages.length} dirty pages`]);
  assert.equal(renderHive(hive), await hivexExport(afterPath));

  // A log written for another version of the primary (its timestamp differs) does not apply.
  const other = Buffer.from(log);
  other.writeBigUInt64LE(other.readBigUInt64LE(12) + 1n, 12);
  other.writeUInt32LE(0, 508);
  let x = 0;
  for (let i = 0; i < 508; i += 4) x ^= other.readUInt32LE(i);
  other.writeUInt32LE(x >>> 0, 508);
  const stale = Hive.parse(primary, 'SOFTWARE', [{ name: 'SOFTWARE.LOG', bytes: other }]);
  assert.deepEqual(stale.replayed, []);
  assert.equal(renderHive(stale), renderHive(Hive.parse(before, 'before')));
});

test('a primary whose base block checksum is bad takes the base block from the log', async () => {
  const { before, after, afterPath } = await beforeAndAfter();
  const primary = dirtyPrimary(before);
  primary.writeUInt32LE((primary.readUInt32LE(508) ^ 0xff) >>> 0, 508);
  assert.throws(() => Hive.parse(primary, 'p'), /checksum/);
  const seq = primary.readUInt32LE(8);
  const bins = after.readUInt32LE(40);
  const log1 = Buffer.concat([logBaseBlock(before, 6, seq, before.readUInt32LE(40)), hvle(seq, bins, changedPages(before, after, 4096))]);
  const hive = Hive.parse(primary, 'SAM', [{ name: 'SAM.LOG1', bytes: log1 }]);
  assert.equal(renderHive(hive), await hivexExport(afterPath));
});

test('logs of a clean hive are ignored; a dirty hive with no usable log reads as it is', async () => {
  const { before, after } = await beforeAndAfter();
  const bins = after.readUInt32LE(40);
  const seq = before.readUInt32LE(8);
  const log1 = Buffer.concat([logBaseBlock(after, 6, seq, bins), hvle(seq, bins, changedPages(before, after, 4096))]);
  const clean = Hive.parse(before, 'clean', [{ name: 'LOG1', bytes: log1 }]);
  assert.deepEqual(clean.replayed, []);
  assert.equal(clean.dirty, false);
  const junk = Hive.parse(dirtyPrimary(before), 'dirty', [{ name: 'LOG1', bytes: Buffer.alloc(8192, 0x41) }, { name: 'LOG2', bytes: Buffer.alloc(10) }]);
  assert.deepEqual(junk.replayed, []);
  assert.equal(junk.dirty, true);
  assert.equal(renderHive(junk), renderHive(clean));
  // Entries that do not start at the primary's secondary sequence number leave it as it is.
  const later = Buffer.concat([logBaseBlock(after, 6, seq + 5, bins), hvle(seq + 5, bins, changedPages(before, after, 4096))]);
  assert.deepEqual(Hive.parse(dirtyPrimary(before), 'dirty', [{ name: 'LOG1', bytes: later }]).replayed, []);
});
