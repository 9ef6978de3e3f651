/**
 * The cpio "newc" format (magic 070701, or 070702 with checksums) that initramfs archives
 * use: a 110-byte ASCII header of hex fields, the NUL-terminated name, the data, each padded
 * to 4 bytes; "TRAILER!!!" ends an archive. Every field is checked against the bytes left.
 */
import { InitramfsError } from './initramfs-error.js';

export const CPIO_MAGIC = '07070';
const HEADER = 110;
/** Longer names than the kernel's PATH_MAX are not in a real initramfs. */
const MAX_NAME = 4096;
const TRAILER = 'TRAILER!!!';

export interface CpioEntry {
  name: string;
  mode: number;
  /** The file's bytes (a view of the archive). */
  data: Buffer;
}

export function isCpio(buf: Buffer, at: number): boolean {
  return buf.length - at >= 6 && buf.toString('latin1', at, at + 5) === CPIO_MAGIC && (buf[at + 5] === 0x31 || buf[at + 5] === 0x32);
}

/**
 * Read one archive starting at `start` (`where` names the file and layer for messages; the
 * kernel starts an archive only where the bytes since the last compressed stream are 4-aligned),
 * calling `onEntry` for each member; returns the offset just past its trailer.
 */
export function readCpio(buf: Buffer, start: number, where: string, onEntry: (e: CpioEntry) => void): number {
  let at = start;
  for (;;) {
    if (!isCpio(buf, at)) throw new InitramfsError(where, 'cpio header', at, 'no newc magic (070701/070702) where a member or the trailer should be');
    if (buf.length - at < HEADER) throw new InitramfsError(where, 'cpio header', at, 'truncated');
    const field = (i: number) => {
      const text = buf.toString('latin1', at + 6 + i * 8, at + 14 + i * 8);
      if (!/^[0-9a-fA-F]{8}$/.test(text)) throw new InitramfsError(where, 'cpio header', at, `field ${i} is not hex: ${JSON.stringify(text)}`);
      return parseInt(text, 16);
    };
    const mode = field(1);
    const size = field(6);
    const nameSize = field(11);
    if (nameSize < 1 || nameSize > MAX_NAME) throw new InitramfsError(where, 'cpio header', at, `name size ${nameSize} is outside 1..${MAX_NAME}`);
    const nameEnd = at + HEADER + nameSize;
    const dataStart = align4(nameEnd, start);
    if (dataStart > buf.length) throw new InitramfsError(where, 'cpio name', at + HEADER, 'truncated');
    const name = buf.toString('utf8', at + HEADER, nameEnd - 1);
    if (size > buf.length - dataStart) throw new InitramfsError(where, 'cpio data', dataStart, `size ${size} passes the end (${buf.length - dataStart} bytes left)`);
    const next = Math.min(buf.length, align4(dataStart + size, start));
    if (name === TRAILER) return next;
    onEntry({ name, mode, data: buf.subarray(dataStart, dataStart + size) });
    at = next;
  }
}

/** Padding counts from the archive's start (the kernel's, after a compressed stream, need not be 4-aligned in the file). */
const align4 = (n: number, base: number) => base + ((n - base + 3) & ~3);
