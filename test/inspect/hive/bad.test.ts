import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { prng } from '../../../disk/filters/prng.js';
import { checksum } from '../../../inspect/hive/base-block.js';
import type { HiveKey } from '../../../inspect/hive/hive.js';
import { Hive, HiveError } from '../../../inspect/hive/hive.js';
import { NK } from '../../../inspect/hive/nk.js';
import { richHive, smallHive } from './images.js';

const NAME = '/images/SYSTEM';

function expectError(bytes: Buffer, message: string, use: (h: Hive) => unknown = () => undefined): void {
  assert.throws(
    () => use(Hive.parse(bytes, NAME)),
    (e: Error) => {
      assert.ok(e instanceof HiveError, `${e.name}: ${e.message}`);
      assert.equal(e.message, message);
      return true;
    },
  );
}

/** Every key and value below `k`, with Windows's depth limit standing in for cycle detection. */
function walk(k: HiveKey, depth = 0): number {
  if (depth > 512) throw new Error('too deep');
  let n = 1;
  for (const v of k.values()) n += v.data.length >= 0 ? 1 : 0;
  for (const c of k.subkeys()) n += walk(c, depth + 1);
  return n;
}

const sealed = (b: Buffer): Buffer => {
  b.writeUInt32LE(checksum(b), 508);
  return b;
};

test('a truncated hive names the base block', async () => {
  const { path } = await smallHive();
  const b = await readFile(path);
  expectError(b.subarray(0, 100), `${NAME}: base block: file is 100 bytes, shorter than the 4096-byte base block (at byte 0)`);
  const size = b.readUInt32LE(40);
  expectError(b.subarray(0, 8192), `${NAME}: base block: hbins size ${size} runs past the end of the 8192-byte file (truncated?) (at byte 40)`);
});

test('a bad checksum is refused', async () => {
  const { path } = await smallHive();
  const b = await readFile(path);
  const good = b.readUInt32LE(508);
  b[48] = b[48]! ^ 0x20;
  expectError(b, `${NAME}: base block: checksum 0x${good.toString(16)} does not match 0x${checksum(b).toString(16)} (at byte 508)`);
});

test('a broken hbin header is refused', async () => {
  const { path } = await smallHive();
  const b = await readFile(path);
  b.write('hbix', 4096, 'latin1');
  expectError(b, `${NAME}: hbin: no "hbin" signature (at byte 4096)`);
});

test('a cell whose size runs past its hbin', async () => {
  const { path } = await smallHive();
  const b = await readFile(path);
  const root = 4096 + b.readUInt32LE(36);
  const binEnd = 4096 + b.readUInt32LE(4096 + 8);
  b.writeInt32LE(-0x10000, root);
  expectError(b, `${NAME}: nk record: cell size 65536 runs past its hbin (which ends at byte ${binEnd}) (at byte ${root})`);
});

test('an offset outside the hive', async () => {
  const { path } = await smallHive();
  const b = await readFile(path);
  const a = Hive.parse(b, NAME).key('A')!.offset;
  b.writeUInt32LE(0x7ffffff0, a + 4 + NK.VALUE_LIST);
  expectError(b, `${NAME}: value list: cell offset is outside the hbins (at byte ${0x7ffffff0 + 4096})`, (h) => h.key('a')!.values());
  b.writeUInt32LE(0x22, a + 4 + NK.VALUE_LIST);
  expectError(b, `${NAME}: value list: cell offset is not a multiple of 4 (at byte ${0x22 + 4096})`, (h) => h.key('a')!.values());
  // The hbin header, not a cell.
  b.writeUInt32LE(0x8, a + 4 + NK.VALUE_LIST);
  expectError(b, `${NAME}: value list: cell offset is outside the hbins (at byte ${0x8 + 4096})`, (h) => h.key('a')!.values());
});

test('an ri list that points to itself', async () => {
  const { path } = await richHive();
  const b = Buffer.from(await readFile(path));
  const many = Hive.parse(b, NAME).key('Many')!.offset;
  const listRel = b.readUInt32LE(many + 4 + NK.SUBKEY_LIST);
  const list = 4096 + listRel;
  b.write('ri', list + 4, 'latin1');
  b.writeUInt16LE(1, list + 6);
  b.writeUInt32LE(listRel, list + 8);
  const message = `${NAME}: ri list: entry 0 points to an ri list at byte ${list} (nested or cyclic index) (at byte ${list})`;
  expectError(b, message, (h) => h.key('Many')!.subkeys());
  expectError(b, message, (h) => h.key('Many\\Sub0000'));
});

test('a subkey count that disagrees with the lists', async () => {
  const { path } = await smallHive();
  const b = await readFile(path);
  const a = Hive.parse(b, NAME).key('A')!.offset;
  b.writeUInt32LE(13, a + 4 + NK.SUBKEY_COUNT);
  expectError(b, `${NAME}: nk record: key "A" counts 13 subkeys, its lists hold 12 (at byte ${a})`, (h) => h.key('A')!.subkeys());
});

test('random damage gives a HiveError or a readable hive, never a crash or a hang', async () => {
  const { path } = await smallHive();
  const clean = await readFile(path);
  const random = prng(20261201);
  let errors = 0;
  for (let i = 0; i < 400; i++) {
    const b = Buffer.from(clean);
    const flips = 1 + Math.floor(random() * 4);
    for (let f = 0; f < flips; f++) {
      // Mostly the records (the first 1 KiB of the hbins), sometimes anywhere.
      const at = random() < 0.8 ? 4096 + 32 + Math.floor(random() * 1024) : Math.floor(random() * b.length);
      b[at] = Math.floor(random() * 256);
    }
    sealed(b);
    try {
      walk(Hive.parse(b, NAME).root);
    } catch (e) {
      assert.ok(e instanceof HiveError || (e as Error).message === 'too deep', `iteration ${i}: ${(e as Error).stack}`);
      errors++;
    }
  }
  assert.ok(errors > 20, `only ${errors} of 400 damaged hives were refused`);
});

test('deleting a key whose subtree loops back is refused and changes nothing', async () => {
  const { path } = await smallHive();
  const b = await readFile(path);
  const h = Hive.parse(b, NAME);
  const a = h.key('A')!.offset;
  const leaf = h.key('A\\k3\\leaf')!.offset;
  // leaf's subkey list becomes A's own list: leaf -> k0..k11 -> leaf ...
  b.writeUInt32LE(b.readUInt32LE(a + 4 + NK.SUBKEY_LIST), leaf + 4 + NK.SUBKEY_LIST);
  b.writeUInt32LE(12, leaf + 4 + NK.SUBKEY_COUNT);
  const hive = Hive.parse(b, NAME);
  assert.throws(
    () => hive.deleteKey(hive.key('A')!),
    (e: Error) => e instanceof HiveError && /^\/images\/SYSTEM: nk record: key is reached twice below the one being deleted \(a cycle\?\) \(at byte \d+\)$/.test(e.message),
  );
  assert.deepEqual(hive.toBuffer().subarray(4096), b.subarray(4096));
});
