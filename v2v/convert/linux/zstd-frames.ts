/**
 * Walk the zstd frames at the start of a buffer by their headers and block sizes (RFC 8878),
 * without decompressing: where the zstd data ends (so padding or another archive may follow,
 * as the kernel allows) and the largest window a frame asks for, which fzstd would allocate
 * before producing any output, so it is checked against our cap first.
 */
import { InitramfsError } from './initramfs-error.js';

const ZSTD_MAGIC = 0xfd2fb528;
const FCS_BYTES = [0, 2, 4, 8];
const DICT_BYTES = [0, 1, 2, 4];

export interface ZstdExtent {
  /** Bytes of zstd frames (and skippable frames) from the start. */
  end: number;
  /** The largest window (or single-segment content size) of any frame. */
  window: number;
}

export function zstdFrames(data: Buffer, where: string, offset: number): ZstdExtent {
  const fail = (at: number, m: string) => new InitramfsError(where, 'zstd frame', offset + at, m);
  let at = 0;
  let window = 0;
  while (at + 4 <= data.length) {
    const magic = data.readUInt32LE(at);
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      if (at + 8 > data.length) throw fail(at, 'truncated skippable frame');
      at += 8 + data.readUInt32LE(at + 4);
      continue;
    }
    if (magic !== ZSTD_MAGIC) break;
    if (at + 5 > data.length) throw fail(at, 'truncated frame header');
    const fhd = data[at + 4]!;
    if (fhd & 8) throw fail(at + 4, 'reserved bit set in the frame header');
    const single = (fhd >> 5) & 1;
    let p = at + 5;
    let frameWindow = 0;
    if (!single) {
      const wd = data[p++]!;
      const base = 2 ** (10 + (wd >> 3));
      frameWindow = base + (base / 8) * (wd & 7);
    }
    p += DICT_BYTES[fhd & 3]!;
    const fcsBytes = FCS_BYTES[fhd >> 6] || single;
    if (p + fcsBytes > data.length) throw fail(at, 'truncated frame header');
    if (single) {
      let fcs = 0;
      for (let i = fcsBytes - 1; i >= 0; i--) fcs = fcs * 256 + data[p + i]!;
      frameWindow = fcsBytes === 2 ? fcs + 256 : fcs;
    }
    p += fcsBytes;
    window = Math.max(window, frameWindow);
    for (;;) {
      if (p + 3 > data.length) throw fail(p, 'truncated block header');
      const h = data[p]! | (data[p + 1]! << 8) | (data[p + 2]! << 16);
      const type = (h >> 1) & 3;
      if (type === 3) throw fail(p, 'reserved block type');
      p += 3 + (type === 1 ? 1 : h >>> 3);
      if (p > data.length) throw fail(p, 'block passes the end of the file');
      if (h & 1) break;
    }
    at = p + (fhd & 4 ? 4 : 0);
    if (at > data.length) throw fail(at, 'truncated checksum');
  }
  if (at === 0) throw fail(0, 'no zstd frame');
  return { end: Math.min(at, data.length), window };
}
