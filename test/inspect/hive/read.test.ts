import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { Hive, HiveError, REG } from '../../../inspect/hive/hive.js';
import { BIG_SIZES, MANY, richHive } from './images.js';
import { hivexExport, modelOf, renderExport, renderHive } from './reg.js';

test('a hive made by hivexregedit reads exactly as hivexregedit exports it', async () => {
  const { path, model } = await richHive();
  const hive = Hive.parse(await readFile(path), path);
  const ours = renderHive(hive);
  assert.equal(ours, renderExport(model));
  assert.equal(ours, await hivexExport(path));
  assert.equal(hive.dirty, false);
});

test('values decode by type', async () => {
  const { path } = await richHive();
  const t = Hive.parse(await readFile(path), path).key('Types')!;
  assert.equal(t.value('')!.string(), 'default');
  assert.equal(t.value('SZ')!.string(), 'hello');
  assert.equal(t.value('sz unicode')!.string(), 'Grüße 日本');
  assert.equal(t.value('expand')!.string(), '%SystemRoot%\\System32');
  assert.equal(t.value('link')!.string(), '\\Registry\\Machine\\X');
  assert.deepEqual(t.value('multi')!.strings(), ['one', 'two two', 'drei']);
  assert.equal(t.value('dword')!.number(), 0xdeadbeef);
  assert.equal(t.value('dword be')!.number(), 0x12345678);
  assert.equal(t.value('qword')!.number(), 0x1_0000_0001);
  assert.equal(t.value('qword big')!.number(), 0xfedc_ba98_7654_3210n);
  assert.equal(t.value('unknown type')!.type, 0x1234);
  assert.equal(t.value('unknown type')!.data.length, 9);
  assert.equal(t.value('type ffff0000')!.type, 0xffff0000);
  assert.equal(t.value('välue 日本')!.number(), 7);
  assert.equal(t.value('missing'), undefined);
  assert.throws(() => t.value('binary')!.string(), (e: Error) => e instanceof HiveError && /value "binary" is REG_BINARY, not a string/.test(e.message));
  assert.throws(() => t.value('sz')!.number(), /value "sz" is REG_SZ, not a number/);
  assert.equal(REG.MULTI_SZ, 7);
});

test('big values: inline, one cell, and past 16 KiB', async () => {
  const { path, model } = await richHive();
  const big = Hive.parse(await readFile(path), path).key('big')!;
  const want = model.children.get('BIG')!;
  for (const n of BIG_SIZES) {
    const v = big.value(`b${n}`)!;
    assert.equal(v.data.length, n);
    assert.deepEqual(v.data, want.values.get(`B${n}`)!.data);
  }
});

test('lookups are case-insensitive as Windows upcases, through 1500-entry lists and unicode names', async () => {
  const { path } = await richHive();
  const hive = Hive.parse(await readFile(path), path);
  assert.equal(hive.key('')!.offset, hive.root.offset);
  assert.equal(hive.key('\\')!.name, hive.root.name);
  const many = hive.key('MANY')!;
  assert.equal(many.subkeys().length, MANY);
  for (const i of [0, 1, 742, 1499]) {
    const name = `SUB${String(i).padStart(4, '0')}`;
    const k = hive.key(`many\\${name.toLowerCase()}`)!;
    assert.equal(k.name.toUpperCase(), name);
    assert.equal(many.subkey(name)!.offset, k.offset);
  }
  assert.equal(hive.key('Many\\Sub1500'), undefined);
  assert.equal(hive.key('many\\sub0100')!.value('I')!.number(), 100);
  assert.equal(hive.key('üNÏ\\日本語キー')!.value('x')!.string(), 'ü');
  assert.equal(hive.key(Array.from({ length: 30 }, (_, i) => `D${i}`).join('\\'))!.name, 'd29');
  assert.equal(hive.key('Types\\nothing'), undefined);
  assert.deepEqual([...modelOf(hive.root).children.values()].map((c) => c.name).sort(), ['Big', 'Many', 'Types', 'd0', 'Ünï']);
});

test('a hive whose sequence numbers disagree is dirty', async () => {
  const { path } = await richHive();
  const b = await readFile(path);
  b.writeUInt32LE(b.readUInt32LE(4) + 1, 4);
  let x = 0;
  for (let i = 0; i < 508; i += 4) x ^= b.readUInt32LE(i);
  b.writeUInt32LE(x >>> 0, 508);
  const hive = Hive.parse(b, 'dirty.hive');
  assert.equal(hive.dirty, true);
  assert.equal(hive.key('types')!.value('sz')!.string(), 'hello');
});
