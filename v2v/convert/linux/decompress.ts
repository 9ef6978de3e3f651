/**
 * The compressions an initramfs uses, recognised by magic, decompressed by well-kept
 * libraries (node:zlib, @napi-rs/lzma, fzstd; loaded only when met) with the output capped.
 * lz4's legacy frame (the kernel's) has no well-kept decoder on npm, so it is refused with a
 * clear message, as are bzip2, lzma and lzo. zstd frames are walked first (`zstd-frames.ts`)
 * so a frame asking for a huge window is refused before fzstd allocates it.
 */
import { InitramfsError } from './initramfs-error.js';
import { zstdFrames } from './zstd-frames.js';

/** zstd's own decoders refuse windows past 2^27 bytes unless told otherwise (--long=31). */
const ZSTD_WINDOW_MAX = 1 << 27;

export type Compression = 'gzip' | 'xz' | 'zstd' | 'lz4' | 'bzip2' | 'lzma' | 'lzo';

const MAGICS: [Compression, number[]][] = [
  ['gzip', [0x1f, 0x8b]],
  ['gzip', [0x1f, 0x9e]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
  ['lz4', [0x02, 0x21, 0x4c, 0x18]],
  ['bzip2', [0x42, 0x5a, 0x68]],
  ['lzma', [0x5d, 0x00, 0x00]],
  ['lzo', [0x89, 0x4c, 0x5a, 0x4f]],
];

export function compressionAt(buf: Buffer, at: number): Compression | undefined {
  return MAGICS.find(([, m]) => m.every((b, i) => buf[at + i] === b))?.[0];
}

export interface Decompressed {
  data: Buffer;
  /** Compressed bytes the stream took, when we can tell (zstd); else it ran to the end. */
  used?: number;
}

/** Decompress `data` (the rest of the file from a magic), refusing more than `cap` bytes of output. */
export async function decompress(kind: Compression, data: Buffer, cap: number, where: string, offset: number): Promise<Decompressed> {
  const tooBig = () => new InitramfsError(where, `${kind} stream`, offset, `decompresses to more than ${cap} bytes`);
  try {
    switch (kind) {
      case 'gzip': {
        const { gunzipSync } = await import('node:zlib');
        // Node reads gzip members and trailing NULs, but fails on other data after them: the
        // stream is taken to run to the end of the file.
        try {
          return { data: gunzipSync(data, { maxOutputLength: cap }) };
        } catch (e) {
          if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooBig();
          throw e;
        }
      }
      case 'xz': {
        if (xzSize(data, where, offset) > cap) throw tooBig();
        const { xz } = await import('@napi-rs/lzma');
        return { data: await xz.decompress(data) };
      }
      case 'zstd': {
        const { end, window } = zstdFrames(data, where, offset);
        if (window > ZSTD_WINDOW_MAX) throw new InitramfsError(where, 'zstd frame', offset, `window of ${window} bytes is more than the ${ZSTD_WINDOW_MAX} zstd decoders accept`);
        const { Decompress } = await import('fzstd');
        const parts: Uint8Array[] = [];
        let total = 0;
        const d = new Decompress((chunk) => {
          total += chunk.length;
          if (total > cap) throw tooBig();
          parts.push(chunk);
        });
        for (let at = 0; at < end; at += 1 << 20) d.push(data.subarray(at, Math.min(end, at + (1 << 20))), at + (1 << 20) >= end);
        return { data: Buffer.concat(parts, total), used: end };
      }
      default:
        throw new InitramfsError(where, `${kind} stream`, offset, `${kind} compression is not supported: the initramfs cannot be looked into`);
    }
  } catch (e) {
    if (e instanceof InitramfsError) throw e;
    throw new InitramfsError(where, `${kind} stream`, offset, (e as Error).message);
  }
}

/**
 * The decompressed size an xz file declares in its streams' indexes (read from the end:
 * footer, index records), so a bomb is refused before any output is made. Stream padding
 * (NULs in fours) may follow each stream.
 */
function xzSize(data: Buffer, where: string, offset: number): number {
  const fail = (at: number, m: string) => new InitramfsError(where, 'xz index', offset + at, m);
  let end = data.length;
  let total = 0;
  while (end > 0) {
    while (end >= 4 && data.readUInt32LE(end - 4) === 0) end -= 4;
    if (end < 24) throw fail(end, 'no xz stream footer');
    const footer = end - 12;
    if (data[footer + 10] !== 0x59 || data[footer + 11] !== 0x5a) throw fail(footer, 'no xz stream footer magic "YZ" (trailing data after the stream?)');
    const indexSize = (data.readUInt32LE(footer + 4) + 1) * 4;
    let at = footer - indexSize;
    if (at < 12 || data[at] !== 0) throw fail(Math.max(at, 0), 'bad index');
    at++;
    const varint = () => {
      let v = 0;
      for (let i = 0, mul = 1; i < 9; i++, mul *= 128) {
        if (at >= footer) throw fail(at, 'index record passes the footer');
        const b = data[at++]!;
        v += (b & 0x7f) * mul;
        if (b < 0x80) return v;
      }
      throw fail(at, 'varint longer than 9 bytes');
    };
    const records = varint();
    let blocks = 0;
    for (let i = 0; i < records; i++) {
      blocks += Math.ceil(varint() / 4) * 4;
      total += varint();
    }
    end = footer - indexSize - blocks - 12;
    if (end < 0) throw fail(0, 'blocks pass the start of the file');
    if (end > 0 && data.readUInt32BE(end) !== 0xfd377a58) throw fail(end, 'no xz stream header where the index says one starts');
  }
  return total;
}
