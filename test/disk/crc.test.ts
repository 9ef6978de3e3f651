import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { CASTAGNOLI, crcUpdate, IEEE } from '../../disk/crc.js';
import { crc32c } from '../../fs/ext4/crc32c.js';
import { crc32 } from '../../volume/crc32.js';
import { run } from '../fixtures/run.js';
import { pattern } from './qcow2/images.js';

/** The CRC register bit by bit, as the polynomial's definition says. */
function bitwise(poly: number, crc: number, data: Uint8Array): number {
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ poly : crc >>> 1;
  }
  return crc >>> 0;
}

test('crc: the WebAssembly bytes are what disk/crc.wat compiles to', async () => {
  await run(process.execPath, [fileURLToPath(new URL('../../../scripts/wat.mjs', import.meta.url)), '--check']);
});

test('crc: check values of "123456789" (CRC-32 cbf43926, CRC-32C e3069283)', () => {
  const check = Buffer.from('123456789');
  assert.equal(crc32(check), 0xcbf43926);
  assert.equal(~crc32c(0xffffffff, check) >>> 0, 0xe3069283);
});

test('crc: every length, start and seed agrees with the bitwise definition and with zlib', () => {
  const data = pattern(200_000, 7);
  for (let len = 0; len <= 70; len++) {
    for (const start of [0, 1, 3, 5]) {
      const slice = data.subarray(start, start + len);
      for (const seed of [0, 0xffffffff, 0xf597a6cf]) {
        assert.equal(crcUpdate(IEEE, seed, data, start, start + len), bitwise(0xedb88320, seed, slice), `IEEE len ${len} start ${start}`);
        assert.equal(crcUpdate(CASTAGNOLI, seed, data, start, start + len), bitwise(0x82f63b78, seed, slice), `Castagnoli len ${len} start ${start}`);
      }
    }
  }
  // Longer than the module's data area (48 KiB), so it goes in several calls.
  for (const [start, end] of [[0, 200_000], [13, 131_083], [49_151, 49_153]] as const) {
    const slice = data.subarray(start, end);
    assert.equal(crc32(slice), zlibCrc32(slice), `IEEE [${start}, ${end}) against zlib`);
    assert.equal(crcUpdate(CASTAGNOLI, 0xffffffff, data, start, end), bitwise(0x82f63b78, 0xffffffff, slice), `Castagnoli [${start}, ${end})`);
  }
});
