import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import fc from 'fast-check';
import { Allocator } from '../../../inspect/hive/allocator.js';
import { parseBaseBlock, sealBaseBlock } from '../../../inspect/hive/base-block.js';
import { Cells } from '../../../inspect/hive/cells.js';
import { Hive, HiveError } from '../../../inspect/hive/hive.js';
import { compareNames, decodeName, encodeName, nameKey } from '../../../inspect/hive/names.js';
import { cellMap } from './cell-map.js';
import { EMPTY_HIVE } from './reg.js';

const anyName = (max: number) => fc.string({ unit: 'binary', minLength: 1, maxLength: max });

test('names: stored form decodes to the same string, compressed exactly when every unit fits a byte', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 64 }), (s) => {
      const { bytes, compressed } = encodeName(s);
      assert.equal(decodeName(bytes, compressed), s);
      assert.equal(compressed, [...s].every((c) => c.charCodeAt(0) <= 0xff && c.length === 1));
    }),
    { numRuns: 500 },
  );
});

test('base block: sealed blocks parse, and any one-bit change to the checksummed bytes is refused', async () => {
  const empty = await readFile(EMPTY_HIVE);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 508 * 8 - 1 }), fc.date({ min: new Date('1980-01-01'), max: new Date('2200-01-01'), noInvalidDate: true }), (bit, when) => {
      const b = Buffer.from(empty);
      sealBaseBlock(b, b.readUInt32LE(40), when);
      assert.equal(parseBaseBlock(b, 'h').primarySeq, empty.readUInt32LE(4) + 1);
      b[bit >> 3] = b[bit >> 3]! ^ (1 << (bit & 7));
      assert.throws(() => parseBaseBlock(b, 'h'), HiveError);
    }),
    { numRuns: 300 },
  );
});

test('cells: any sequence of allocations and frees keeps hbins tiled, contents intact, free neighbours merged', async () => {
  const empty = await readFile(EMPTY_HIVE);
  const op = fc.oneof(fc.record({ alloc: fc.integer({ min: 0, max: 20000 }) }), fc.record({ free: fc.nat() }));
  fc.assert(
    fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
      const cells = new Cells(Buffer.from(empty), 'h', empty.readUInt32LE(40));
      const alloc = new Allocator(cells);
      const live: Array<{ at: number; length: number; mark: number }> = [];
      ops.forEach((o, i) => {
        if ('alloc' in o) {
          const at = alloc.alloc(o.alloc);
          const mark = (i * 37) & 0xff;
          assert.ok(cells.data(at, 'cell').length >= o.alloc);
          assert.ok(cells.data(at, 'cell').subarray(0, o.alloc).every((x) => x === 0), 'new cells are zeroed');
          cells.buf.fill(mark, at + 4, at + 4 + o.alloc);
          live.push({ at, length: o.alloc, mark });
        } else if (live.length > 0) {
          alloc.free(live.splice(o.free % live.length, 1)[0]!.at);
        }
      });
      cells.buf.writeUInt32LE(cells.end - 4096, 40);
      const map = cellMap(cells.buf.subarray(0, cells.end));
      const used = map.filter((c) => c.used).map((c) => c.at);
      // The empty hive's own root nk and sk cells stay allocated too.
      assert.deepEqual(used.filter((at) => live.some((l) => l.at === at)).length, live.length);
      for (const l of live) assert.ok(cells.buf.subarray(l.at + 4, l.at + 4 + l.length).every((x) => x === l.mark), `cell ${l.at} kept its contents`);
      assert.deepEqual(alloc.freeCells(), map.filter((c) => !c.used).map((c) => [c.at, c.size]));
      for (let i = 1; i < map.length; i++) assert.ok(map[i - 1]!.used || map[i]!.used || map[i - 1]!.at + map[i - 1]!.size !== map[i]!.at, 'free neighbours merged');
    }),
    { numRuns: 150 },
  );
});

test('values: any name, type and data (inline, one cell, db) reads back after a save', async () => {
  const empty = await readFile(EMPTY_HIVE);
  const size = fc.oneof(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 9, max: 3000 }), fc.integer({ min: 16340, max: 50000 }));
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 40 }), fc.integer({ min: 0, max: 0xffffffff }), size, fc.integer({ min: 0, max: 255 }), (name, type, n, seed) => {
      const data = Buffer.alloc(n);
      for (let i = 0; i < n; i++) data[i] = (seed + i * 131) & 0xff;
      const hive = Hive.parse(empty, 'h');
      hive.setValue(hive.root, name, type, data);
      const back = Hive.parse(hive.toBuffer(), 'h2');
      const v = back.root.value(String.fromCharCode(...nameKey(name)))!;
      assert.equal(v.name, name);
      assert.equal(v.type, type);
      assert.deepEqual(v.data, data);
    }),
    { numRuns: 120 },
  );
});

test('keys: any names added in any order are listed sorted as Windows upcases, and found in any case', async () => {
  const empty = await readFile(EMPTY_HIVE);
  const names = fc.uniqueArray(anyName(20).filter((s) => !s.includes('\\')), { maxLength: 40, selector: (s) => String.fromCharCode(...nameKey(s)) });
  fc.assert(
    fc.property(names, (ns) => {
      const hive = Hive.parse(empty, 'h');
      const k = hive.addKey(hive.root, 'k');
      for (const n of ns) hive.addKey(k, n);
      const back = Hive.parse(hive.toBuffer(), 'h2').key('K')!;
      const listed = back.subkeys().map((s) => s.name);
      assert.deepEqual(listed, [...ns].sort(compareNames));
      for (const n of ns) assert.equal(back.subkey(String.fromCharCode(...nameKey(n)))!.name, n);
    }),
    { numRuns: 100 },
  );
});

test('hive names: every code unit upcases as toUpperCase does where it maps to one unit, alone and inside ASCII names', () => {
  for (let c = 0; c < 65536; c++) {
    const ch = String.fromCharCode(c);
    const up = ch.toUpperCase();
    const want = up.length === 1 ? up.charCodeAt(0) : c;
    assert.equal(nameKey(ch)[0], want, `U+${c.toString(16)}`);
    if (c % 251 === 0) assert.deepEqual([...nameKey(`ab${ch}z`)], [0x41, 0x42, want, 0x5a], `ab U+${c.toString(16)} z`);
  }
});
