import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UpCase } from '../../../fs/ntfs/upcase.js';

test('ntfs $UpCase: little-endian units from any buffer offset; a short table maps the rest to themselves', () => {
  // 300 units: unit i maps to i + 1 (so the byte order shows), stored at an odd offset.
  const raw = Buffer.alloc(1 + 600);
  for (let i = 0; i < 300; i++) raw.writeUInt16LE(i + 1, 1 + i * 2);
  const up = UpCase.fromBuffer(raw.subarray(1));
  assert.deepEqual([...up.key('\u0000\u0001\u0100\u012b')], [1, 2, 0x101, 0x12c]);
  assert.deepEqual([...up.key('\u012c\uffff')], [0x12c, 0xffff], 'past the table: unchanged');
  const name = Buffer.from('\u0005\u0105', 'utf16le');
  assert.deepEqual([...up.keyAt(Buffer.concat([Buffer.from([9]), name]), 1, 2)], [6, 0x106]);
});
