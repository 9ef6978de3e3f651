/**
 * Hand-written transaction logs for the replay tests, laid out as the format specification
 * describes (see inspect/hive/log.ts): a 512-byte log base block, then HvLE entries sealed
 * with Marvin32 (new format) or a DIRT bitmap and its 512-byte pages (old format).
 */
import { checksum } from '../../../inspect/hive/base-block.js';
import { HIVE_LOG_SEED, marvin32 } from '../../../inspect/hive/marvin32.js';

export interface Page {
  /** Offset from the first hbin. */
  offset: number;
  data: Buffer;
}

const setChecksum = (b: Buffer): void => {
  b.writeUInt32LE(checksum(b), 508);
};

/** A copy of the hive marked as Windows leaves it mid-write: primary sequence one ahead, checksum valid. */
export function dirtyPrimary(hive: Buffer): Buffer {
  const out = Buffer.from(hive);
  out.writeUInt32LE(out.readUInt32LE(8) + 1, 4);
  setChecksum(out);
  return out;
}

/** The 512-byte log base block: the hive's first sector with the log's file type and equal sequence numbers. */
export function logBaseBlock(hive: Buffer, fileType: number, seq: number, binsSize = hive.readUInt32LE(40)): Buffer {
  const b = Buffer.from(hive.subarray(0, 512));
  b.writeUInt32LE(seq, 4);
  b.writeUInt32LE(seq, 8);
  b.writeUInt32LE(fileType, 28);
  b.writeUInt32LE(binsSize, 40);
  setChecksum(b);
  return b;
}

/** One HvLE entry holding `pages`, padded to 512 bytes, with both hashes. */
export function hvle(seq: number, binsSize: number, pages: Page[]): Buffer {
  const body = 40 + pages.length * 8 + pages.reduce((n, p) => n + p.data.length, 0);
  const e = Buffer.alloc(Math.ceil(body / 512) * 512);
  e.write('HvLE', 0, 'latin1');
  e.writeUInt32LE(e.length, 4);
  e.writeUInt32LE(seq, 12);
  e.writeUInt32LE(binsSize, 16);
  e.writeUInt32LE(pages.length, 20);
  let at = 40 + pages.length * 8;
  pages.forEach((p, i) => {
    e.writeUInt32LE(p.offset, 40 + i * 8);
    e.writeUInt32LE(p.data.length, 44 + i * 8);
    p.data.copy(e, at);
    at += p.data.length;
  });
  e.writeBigUInt64LE(marvin32(e.subarray(40), HIVE_LOG_SEED), 24);
  e.writeBigUInt64LE(marvin32(e.subarray(0, 32), HIVE_LOG_SEED), 32);
  return e;
}

/** The `size`-byte pages of `after`'s hbins that differ from `before`'s (pages past `before`'s end included). */
export function changedPages(before: Buffer, after: Buffer, size: number): Page[] {
  const pages: Page[] = [];
  const bins = after.readUInt32LE(40);
  for (let off = 0; off < bins; off += size) {
    const a = after.subarray(4096 + off, 4096 + off + size);
    const b = before.subarray(4096 + off, 4096 + off + size);
    if (!a.equals(b)) pages.push({ offset: off, data: Buffer.from(a) });
  }
  return pages;
}

/** An old-format log (file type 1): DIRT, a bit per 512-byte page, then those pages. */
export function dirtLog(primary: Buffer, after: Buffer, pages: Page[]): Buffer {
  const bins = after.readUInt32LE(40);
  const base = logBaseBlock(after, 1, primary.readUInt32LE(4));
  primary.copy(base, 12, 12, 20); // the timestamp that makes the log apply to this primary
  setChecksum(base);
  const bitmap = Buffer.alloc(Math.ceil(bins / 512 / 8));
  for (const p of pages) bitmap[p.offset / 512 >> 3]! |= 1 << ((p.offset / 512) & 7);
  const vector = Buffer.concat([Buffer.from('DIRT', 'latin1'), bitmap]);
  const padded = Buffer.alloc(Math.ceil(vector.length / 512) * 512);
  vector.copy(padded);
  return Buffer.concat([base, padded, ...pages.map((p) => p.data)]);
}
