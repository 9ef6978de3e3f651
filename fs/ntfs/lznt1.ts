/**
 * LZNT1, the compression of NTFS compressed files: a unit is a series of chunks that each
 * expand to at most 4096 bytes. A chunk header's bit 15 says compressed, bits 0-11 its size-3.
 * In a compressed chunk, each flag byte announces 8 tokens: a literal byte, or a 16-bit
 * back-reference whose offset/length split moves as the chunk's output grows.
 */
const CHUNK = 4096;

/** Decompress `src` into exactly `outSize` bytes (trailing bytes stay zero), or say what is wrong. */
export function lznt1Decompress(src: Buffer, outSize: number): Buffer | string {
  const out = Buffer.alloc(outSize);
  let sp = 0;
  let op = 0;
  while (sp + 2 <= src.length && op < outSize) {
    const h = src.readUInt16LE(sp);
    if (h === 0) break;
    const size = (h & 0x0fff) + 1;
    const chunkEnd = sp + 2 + size;
    if (chunkEnd > src.length) return `chunk at ${sp} runs past the compressed data`;
    sp += 2;
    const chunkStart = op;
    const limit = Math.min(outSize, chunkStart + CHUNK);
    if ((h & 0x8000) === 0) {
      // Stored chunk: 4096 raw bytes (or what is left of the data).
      const n = Math.min(size, limit - op);
      src.copy(out, op, sp, sp + n);
      op += n;
      sp = chunkEnd;
      continue;
    }
    while (sp < chunkEnd && op < limit) {
      const flags = src[sp++]!;
      for (let bit = 0; bit < 8 && sp < chunkEnd && op < limit; bit++) {
        if ((flags & (1 << bit)) === 0) {
          out[op++] = src[sp++]!;
          continue;
        }
        if (sp + 2 > chunkEnd) return `back-reference at ${sp} cut off`;
        const token = src.readUInt16LE(sp);
        sp += 2;
        let lmask = 0xfff;
        let dshift = 12;
        for (let i = op - chunkStart - 1; i >= 0x10; i >>= 1) {
          lmask >>= 1;
          dshift--;
        }
        const back = (token >> dshift) + 1;
        let len = (token & lmask) + 3;
        if (op - back < chunkStart) return `back-reference at ${sp - 2} points before its chunk`;
        if (op + len > limit) len = limit - op;
        for (let i = 0; i < len; i++, op++) out[op] = out[op - back]!;
      }
    }
    // A chunk that decompressed to under 4096 bytes ends the unit's data only if it is last;
    // otherwise the rest of the 4096 reads as zeros.
    if (sp >= chunkEnd && op < limit && chunkEnd + 2 <= src.length && src.readUInt16LE(chunkEnd) !== 0) op = limit;
    sp = chunkEnd;
  }
  return out;
}
