/**
 * CRC-32 with a reflected polynomial, run in WebAssembly (disk/crc.wat): GPT's and LVM2's
 * checksums (IEEE) and ext4's and jbd2's (Castagnoli). A command's start puts tens of KiB of
 * metadata through them, and JavaScript runs that cold, in V8's interpreter, at a few MB/s
 * (a 4 KiB block cost ~300 µs); WebAssembly is compiled before its first call.
 */
import { CRC_WASM } from './crc-wasm.js';

/** The tables of a polynomial: their offset in the module's memory (crc.wat's layout). */
export type CrcTables = number;
export const IEEE: CrcTables = 0;
export const CASTAGNOLI: CrcTables = 8192;

/** Where the data goes in the module's memory, and how much fits at once. */
const DATA = 16384;
const CHUNK = 65536 - DATA;

const instance = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(CRC_WASM, 'base64')));
const wasmUpdate = instance.exports.update as (tables: number, crc: number, length: number) => number;
const memory = new Uint8Array((instance.exports.memory as WebAssembly.Memory).buffer);
fillTables(IEEE, 0xedb88320);
fillTables(CASTAGNOLI, 0x82f63b78);

/** Slicing-by-8 tables: table 0 moves the register a byte, table j a byte plus j zero bytes. */
function fillTables(at: CrcTables, poly: number): void {
  const t = new Uint32Array(memory.buffer, at, 8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    t[n] = c;
  }
  for (let i = 256; i < 8 * 256; i++) t[i] = (t[i - 256]! >>> 8) ^ t[t[i - 256]! & 0xff]!;
}

/** The CRC register after `data[start, end)`, from register `crc`: no inversions either side. */
export function crcUpdate(tables: CrcTables, crc: number, data: Uint8Array, start = 0, end = data.length): number {
  let reg = crc;
  for (let at = start; at < end; at += CHUNK) {
    const n = Math.min(CHUNK, end - at);
    memory.set(data.subarray(at, at + n), DATA);
    reg = wasmUpdate(tables, reg, n);
  }
  return reg >>> 0;
}
