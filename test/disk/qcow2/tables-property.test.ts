import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { COMPRESSED_HI, COPIED_HI, entryOffset, putEntry } from '../../../disk/qcow2/tables.js';

test('qcow2 table entries: any 512-aligned offset below 2^56 written with the COPIED bit reads back', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: (1n << 47n) - 1n }), fc.integer({ min: 0, max: 4088 }), (sectors, slot) => {
      const offset = Number(sectors * 512n);
      const at = slot & ~7;
      const table = Buffer.alloc(4096, 0xa5);
      putEntry(table, at, offset);
      const hi = table.readUInt32BE(at);
      const lo = table.readUInt32BE(at + 4);
      assert.equal(entryOffset(hi, lo), offset);
      assert.notEqual(hi & COPIED_HI, 0);
      assert.equal(hi & COMPRESSED_HI, 0);
      // qemu's own reading of the entry: bits 9-55 of the big-endian 64-bit value.
      assert.equal(table.readBigUInt64BE(at) & 0x00fffffffffffe00n, BigInt(offset));
      // Neighbouring entries are untouched.
      if (at >= 8) assert.equal(table.readUInt32BE(at - 8), 0xa5a5a5a5);
    }),
    { numRuns: 2000, seed: 15 },
  );
});

test('qcow2 table entries: entryOffset keeps only bits 9-55 of any entry, as qemu masks them', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (entry) => {
      const b = Buffer.alloc(8);
      b.writeBigUInt64BE(entry);
      assert.equal(BigInt(entryOffset(b.readUInt32BE(0), b.readUInt32BE(4))), entry & 0x00fffffffffffe00n);
    }),
    { numRuns: 2000, seed: 16 },
  );
});
