import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { prng } from '../../../disk/filters/prng.js';
import { checksum } from '../../../inspect/hive/base-block.js';
import type { HiveKey } from '../../../inspect/hive/hive.js';
import { Hive, HiveError, REG } from '../../../inspect/hive/hive.js';
import type { Key } from '../../../inspect/hive/key.js';
import { NK } from '../../../inspect/hive/nk.js';
import { scratch } from '../../fixtures/cache.js';
import { run } from '../../fixtures/run.js';
import { richHive, smallHive } from './images.js';
import type { MKey } from './reg.js';
import { EMPTY_HIVE, fold, hivexExport, mkey, modelOf, mpath, renderExport, renderHive, setMValue } from './reg.js';
import { cellMap } from './cell-map.js';

const NAMES = ['alpha', 'Beta', 'gamma', 'Delta', 'Ünï', 'ключ', '日本', 'Ωmega', 'x y', 'a.b', 'Z'];
const TYPES = [REG.NONE, REG.SZ, REG.EXPAND_SZ, REG.BINARY, REG.DWORD, REG.DWORD_BIG_ENDIAN, REG.LINK, REG.MULTI_SZ, REG.QWORD, 8, 0x1234];
const SIZES: Array<[number, number]> = [[0, 4], [5, 200], [1000, 5000], [16340, 16350], [16345, 40000]];

/** All key paths of the model, the root as []. */
function paths(root: MKey): string[][] {
  const out: string[][] = [];
  const walk = (k: MKey, p: string[]): void => {
    out.push(p);
    for (const c of k.children.values()) walk(c, [...p, c.name]);
  };
  walk(root, []);
  return out;
}

/** Save the hive and check that hivex and our reader both see exactly the model. */
async function check(hive: Hive, model: MKey, file: string, what: string): Promise<void> {
  await writeFile(file, hive.toBuffer());
  const want = renderExport(model);
  assert.equal(await hivexExport(file), want, `hivex after ${what}`);
  assert.equal(renderHive(Hive.parse(await readFile(file), file)), want, `our reader after ${what}`);
  assertCellsTidy(await readFile(file), what);
}

/** Cells tile every hbin, and no two free cells sit side by side (frees were merged). */
function assertCellsTidy(b: Buffer, what: string): void {
  const cells = cellMap(b);
  for (let i = 1; i < cells.length; i++) {
    const [a, c] = [cells[i - 1]!, cells[i]!];
    if (!a.used && !c.used && a.at + a.size === c.at) assert.fail(`${what}: free cells at ${a.at} and ${c.at} were not merged`);
  }
}

async function randomWrites(hive: Hive, model: MKey, seed: number, ops: number, file: string): Promise<Record<string, number>> {
  const random = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const count: Record<string, number> = {};
  for (let i = 0; i < ops; i++) {
    const all = paths(model);
    const p = pick(all);
    const key = () => hive.key(p.join('\\'))!;
    const m = mpath(model, p)!;
    const r = random();
    let op: string;
    if (r < 0.3) {
      op = 'addKey';
      const name = random() < 0.5 ? pick(NAMES) : `${pick(NAMES)}${Math.floor(random() * 100)}`;
      if (m.children.has(fold(name))) {
        op = 'addKey (exists)';
        assert.throws(() => hive.addKey(key(), name.toLowerCase() === name ? name.toUpperCase() : name.toLowerCase()), /it exists/);
      } else {
        const k = hive.addKey(key(), name);
        assert.equal(k.name, name);
        mpath(model, [...p, name], true);
      }
    } else if (r < 0.4 && p.length > 0) {
      op = 'deleteKey';
      hive.deleteKey(key());
      mpath(model, p.slice(0, -1))!.children.delete(fold(p[p.length - 1]!));
    } else if (r < 0.8) {
      op = 'setValue';
      const existing = [...m.values.values()];
      // Half the time replace a value, named in another case.
      const name = existing.length > 0 && random() < 0.5 ? pick(existing).name.toUpperCase() : random() < 0.1 ? '' : pick(NAMES);
      const [lo, hi] = pick(SIZES);
      const data = Buffer.alloc(lo + Math.floor(random() * (hi - lo)), Math.floor(random() * 256));
      for (let j = 0; j < data.length; j += 97) data[j] = Math.floor(random() * 256);
      const type = pick(TYPES);
      hive.setValue(key(), name, type, data);
      setMValue(m, name, type, data);
      if (data.length > 16344) op = 'setValue (db)';
    } else {
      op = 'deleteValue';
      const existing = [...m.values.values()];
      if (existing.length === 0) {
        op = 'deleteValue (missing)';
        assert.throws(() => hive.deleteValue(key(), 'nothing'), /has no value "nothing" to delete/);
      } else {
        const v = pick(existing);
        hive.deleteValue(key(), v.name.toLowerCase());
        m.values.delete(fold(v.name));
      }
    }
    count[op] = (count[op] ?? 0) + 1;
    if ((i + 1) % Math.ceil(ops / 2) === 0) await check(hive, model, file, `seed ${seed} op ${i + 1}`);
  }
  return count;
}

test('random writes to hives made by hivex and to the empty hive: hivex sees exactly our model', async () => {
  const dir = await scratch('hive-write');
  try {
    const starts = [
      { name: 'empty', path: EMPTY_HIVE, ops: 300 },
      { name: 'small', path: (await smallHive()).path, ops: 300 },
      { name: 'rich', path: (await richHive()).path, ops: 80 },
    ];
    const total: Record<string, number> = {};
    for (const [i, s] of starts.entries()) {
      for (const seed of [11 + i, 101 + i]) {
        const bytes = await readFile(s.path);
        const before = createHash('sha256').update(bytes).digest('hex');
        const hive = Hive.parse(bytes, s.path);
        const model = modelOf(hive.root);
        const count = await randomWrites(hive, model, seed, s.ops, join(dir, `${s.name}-${seed}.hive`));
        for (const [k, n] of Object.entries(count)) total[k] = (total[k] ?? 0) + n;
        assert.equal(createHash('sha256').update(bytes).digest('hex'), before, 'the parsed buffer is never written');
      }
    }
    for (const op of ['addKey', 'addKey (exists)', 'deleteKey', 'setValue', 'setValue (db)', 'deleteValue']) assert.ok((total[op] ?? 0) > 3, `${op} ran ${total[op] ?? 0} times`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('thousands of subkeys: sorted lh leaves under an ri, hivex finds each, deleting all frees the lists', async () => {
  const dir = await scratch('hive-many');
  try {
    const file = join(dir, 'many.hive');
    const hive = Hive.parse(await readFile(EMPTY_HIVE), EMPTY_HIVE);
    const model = mkey('ROOT');
    const parent = hive.addKey(hive.root, 'Parent');
    const m = mpath(model, ['Parent'], true)!;
    const random = prng(77);
    const names = Array.from({ length: 2600 }, (_, i) => `${random() < 0.5 ? 'k' : 'K'}${i}`).sort(() => random() - 0.5);
    for (const n of names) {
      hive.addKey(parent, n);
      mpath(m, [n], true);
    }
    await check(hive, model, file, 'adding 2600 keys');
    const b = await readFile(file);
    const list = 4096 + b.readUInt32LE(parent.offset + 4 + NK.SUBKEY_LIST);
    assert.equal(b.toString('latin1', list + 4, list + 6), 'ri');
    const order = parent.subkeys().map((k) => k.name.toUpperCase());
    assert.deepEqual(order, [...order].sort());
    for (const n of ['k0', 'K1234', 'k2599'].map((x) => names.find((y) => y.toLowerCase() === x.toLowerCase())!)) {
      assert.equal(hive.key(`parent\\${n.toUpperCase()}`)!.name, n);
      // hivexsh exits 1 when it cannot find the key.
      assert.equal(await run('hivexsh', [file], { input: `cd Parent\\${n.toLowerCase()}\nls\n` }), '');
    }
    for (const n of names.sort(() => random() - 0.5)) {
      hive.deleteKey(hive.key(`Parent\\${n}`)!);
      m.children.delete(fold(n));
    }
    await check(hive, model, file, 'deleting them all');
    const after = await readFile(file);
    assert.equal(after.readUInt32LE(parent.offset + 4 + NK.SUBKEY_LIST), 0xffffffff);
    assert.equal(after.readUInt32LE(parent.offset + 4 + NK.SUBKEY_COUNT), 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('saving advances both sequence numbers and seals the checksum', async () => {
  const bytes = await readFile(EMPTY_HIVE);
  const hive = Hive.parse(bytes, EMPTY_HIVE);
  assert.deepEqual(hive.toBuffer(), bytes, 'no writes, no change');
  hive.setValue(hive.root, 'v', REG.DWORD, Buffer.from([1, 0, 0, 0]));
  const out = hive.toBuffer();
  assert.equal(out.readUInt32LE(4), bytes.readUInt32LE(4) + 1);
  assert.equal(out.readUInt32LE(8), bytes.readUInt32LE(4) + 1);
  assert.equal(out.readUInt32LE(508), checksum(out));
  assert.equal(Hive.parse(out, 'out').dirty, false);
  assert.equal(hive.toBuffer().readUInt32LE(4), out.readUInt32LE(4), 'saving again without writes changes nothing');
});

test('a dirty hive is not written', async () => {
  const b = await readFile(EMPTY_HIVE);
  b.writeUInt32LE(b.readUInt32LE(8) + 1, 8);
  b.writeUInt32LE(checksum(b), 508);
  const hive = Hive.parse(b, 'dirty.hive');
  assert.throws(
    () => hive.addKey(hive.root, 'x'),
    (e: Error) => e instanceof HiveError && e.message === `dirty.hive: base block: sequence numbers ${b.readUInt32LE(4)} and ${b.readUInt32LE(8)} differ: the hive has unflushed changes in its .LOG1/.LOG2, which are not replayed, so it is not written (at byte 4)`,
  );
});

test('bad writes are refused with the key named', async () => {
  const hive = Hive.parse(await readFile(EMPTY_HIVE), EMPTY_HIVE);
  const a = hive.addKey(hive.root, 'A');
  assert.throws(() => hive.addKey(a, 'x\\y'), /cannot add key "x\\y" under "A": a key name has no backslash/);
  assert.throws(() => hive.addKey(a, ''), /a key name has 1 to 255 characters/);
  assert.throws(() => hive.addKey(a, 'n'.repeat(256)), /a key name has 1 to 255 characters/);
  assert.throws(() => hive.addKey(hive.root, 'a'), /it exists/);
  assert.throws(() => hive.deleteKey(hive.root), /cannot delete the root key/);
  assert.throws(() => hive.setValue(a, 'v', -1, Buffer.alloc(0)), /type -1 is not a 32-bit number/);
  hive.deleteKey(a);
  assert.throws(() => hive.setValue(a, 'v', REG.SZ, Buffer.alloc(0)), /nk record: points to a free cell/);
});

/** The root's sk record's reference count, read from the file. */
function rootSkReferences(b: Buffer): number {
  const root = 4096 + b.readUInt32LE(36);
  const sk = 4096 + b.readUInt32LE(root + 4 + NK.SECURITY);
  assert.equal(b.toString('latin1', sk + 4, sk + 6), 'sk');
  return b.readUInt32LE(sk + 4 + 12);
}

test('new keys share their parent security descriptor; deleting them gives the references back', async () => {
  const empty = await readFile(EMPTY_HIVE);
  const hive = Hive.parse(empty, EMPTY_HIVE);
  const a = hive.addKey(hive.root, 'A');
  for (let i = 0; i < 4; i++) hive.addKey(a, `c${i}`);
  assert.equal(rootSkReferences(hive.toBuffer()), rootSkReferences(empty) + 5);
  hive.deleteKey(a);
  assert.equal(rootSkReferences(hive.toBuffer()), rootSkReferences(empty));
});

test('older hives: version 1.3 gets lf leaves and big values in one cell; li leaves are read and kept', async () => {
  const dir = await scratch('hive-old');
  try {
    const file = join(dir, 'old.hive');
    const b = await readFile(EMPTY_HIVE);
    b.writeUInt32LE(3, 24);
    b.writeUInt32LE(checksum(b), 508);
    const hive = Hive.parse(b, 'v1.3');
    const model = mkey('ROOT');
    const p = hive.addKey(hive.root, 'P');
    const m = mpath(model, ['P'], true)!;
    for (const n of ['delta', 'Alpha', 'charlie', 'Bravo']) {
      hive.addKey(p, n);
      mpath(m, [n], true);
    }
    const big = Buffer.alloc(30000, 0x5a);
    hive.setValue(p, 'big', REG.BINARY, big);
    setMValue(m, 'big', REG.BINARY, big);
    await check(hive, model, file, 'writing a 1.3 hive');
    const out = await readFile(file);
    const list = 4096 + out.readUInt32LE(p.offset + 4 + NK.SUBKEY_LIST);
    assert.equal(out.toString('latin1', list + 4, list + 6), 'lf');
    // Rewrite the lf leaf as an li leaf (offsets only), as NT 4 hives have them.
    const n = out.readUInt16LE(list + 6);
    const offsets = Array.from({ length: n }, (_, i) => out.readUInt32LE(list + 8 + i * 8));
    out.write('li', list + 4, 'latin1');
    offsets.forEach((o, i) => out.writeUInt32LE(o, list + 8 + i * 4));
    await writeFile(file, out);
    assert.equal(await hivexExport(file), renderExport(model));
    const again = Hive.parse(out, 'li');
    assert.equal(renderHive(again), renderExport(model));
    again.addKey(again.key('P')!, 'bb');
    mpath(m, ['bb'], true);
    again.deleteKey(again.key('p\\ALPHA')!);
    m.children.delete('ALPHA');
    await check(again, model, file, 'writing to an li leaf');
    const last = await readFile(file);
    const list2 = 4096 + last.readUInt32LE(p.offset + 4 + NK.SUBKEY_LIST);
    assert.equal(last.toString('latin1', list2 + 4, list2 + 6), 'li');
    assert.deepEqual(again.key('P')!.subkeys().map((k) => k.name), ['bb', 'Bravo', 'charlie', 'delta']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a value past 16344 bytes is a db record of 16344-byte segments in a 1.5 hive, one cell in a 1.3 hive', async () => {
  for (const minor of [5, 3]) {
    const b = await readFile(EMPTY_HIVE);
    b.writeUInt32LE(minor, 24);
    b.writeUInt32LE(checksum(b), 508);
    const hive = Hive.parse(b, `v1.${minor}`);
    const data = Buffer.from(Array.from({ length: 40000 }, (_, i) => (i * 7) & 0xff));
    hive.setValue(hive.root, 'big', REG.BINARY, data);
    const out = hive.toBuffer();
    const vk = (hive.root as Key).findValue('big')!;
    const cell = 4096 + out.readUInt32LE(vk + 4 + 8);
    if (minor === 5) {
      assert.equal(out.toString('latin1', cell + 4, cell + 6), 'db');
      assert.equal(out.readUInt16LE(cell + 6), 3);
    } else {
      assert.ok(-out.readInt32LE(cell) >= 40004);
    }
    assert.deepEqual(Hive.parse(out, 'again').root.value('BIG')!.data, data);
  }
});

test('keys nest at most 512 levels, as in Windows, and such a chain deletes', async () => {
  const hive = Hive.parse(await readFile(EMPTY_HIVE), EMPTY_HIVE);
  let k: HiveKey = hive.root;
  for (let i = 0; i < 512; i++) k = hive.addKey(k, `l${i}`);
  assert.throws(() => hive.addKey(k, 'deeper'), /cannot add key "deeper" under "l511": keys nest at most 512 levels deep/);
  hive.deleteKey(hive.key('l0')!);
  assert.deepEqual(hive.root.subkeys(), []);
  assert.ok(cellMap(hive.toBuffer()).filter((c) => !c.used).length <= hive.toBuffer().readUInt32LE(40) / 4096, 'the freed cells merged');
});
