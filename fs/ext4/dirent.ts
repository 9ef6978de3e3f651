/**
 * Linear directory entries: {inode u32, rec_len u16, name_len u8, file_type u8, name}, packed
 * to fill each block, with an optional 12-byte checksum tail (metadata_csum).
 */
import { corrupt } from '../errors.js';

export const DIRENT_HEADER = 8;
export const DIR_TAIL_SIZE = 12;
const TAIL_FILETYPE = 0xde;

export interface RawDirent {
  ino: number;
  name: Buffer;
  fileType: number;
  /** Byte offset of the entry within the parsed region, and its rec_len. */
  offset: number;
  recLen: number;
}

/** Space an entry with a name of `nameLen` bytes needs. */
export function direntSize(nameLen: number): number {
  return (DIRENT_HEADER + nameLen + 3) & ~3;
}

/** Decode rec_len (65536-byte blocks store 65536 as 0 or 65535). */
function recLenFromDisk(v: number, blockSize: number): number {
  return blockSize === 65536 && (v === 0 || v === 65535) ? 65536 : v;
}

export function recLenToDisk(v: number): number {
  return v === 65536 ? 65535 : v;
}

/** Is there a checksum tail at the end of this block? */
export function hasDirTail(block: Buffer): boolean {
  const o = block.length - DIR_TAIL_SIZE;
  return block.readUInt32LE(o) === 0 && block.readUInt16LE(o + 4) === DIR_TAIL_SIZE && block.readUInt8(o + 6) === 0 && block.readUInt8(o + 7) === TAIL_FILETYPE;
}

/**
 * Every entry of one region (a block, or inline data), including unused ones (ino 0), in order.
 * `where` names the block for error messages.
 */
export function parseDirents(buf: Buffer, fileType: boolean, dev: string, where: string, at?: bigint): RawDirent[] {
  const out: RawDirent[] = [];
  let off = 0;
  while (off < buf.length) {
    if (off + DIRENT_HEADER > buf.length) throw corrupt(dev, where, `directory entry at offset ${off} overruns the block`, at === undefined ? undefined : at + BigInt(off));
    const ino = buf.readUInt32LE(off);
    const recLen = recLenFromDisk(buf.readUInt16LE(off + 4), buf.length);
    const nameLen = fileType ? buf.readUInt8(off + 6) : buf.readUInt16LE(off + 6);
    if (recLen < DIRENT_HEADER || recLen % 4 !== 0 || off + recLen > buf.length || (ino !== 0 && direntSize(nameLen) > recLen)) {
      throw corrupt(dev, where, `directory entry at offset ${off} has bad rec_len ${recLen} (name_len ${nameLen})`, at === undefined ? undefined : at + BigInt(off));
    }
    out.push({ ino, name: buf.subarray(off + DIRENT_HEADER, off + DIRENT_HEADER + (ino ? nameLen : 0)), fileType: fileType ? buf.readUInt8(off + 7) : 0, offset: off, recLen });
    off += recLen;
  }
  return out;
}

/** Write one entry header and name at `off`. */
export function writeDirent(buf: Buffer, off: number, ino: number, name: Buffer, fileType: number, recLen: number, useFileType: boolean): void {
  buf.writeUInt32LE(ino, off);
  buf.writeUInt16LE(recLenToDisk(recLen), off + 4);
  if (useFileType) {
    buf.writeUInt8(name.length, off + 6);
    buf.writeUInt8(fileType, off + 7);
  } else buf.writeUInt16LE(name.length, off + 6);
  name.copy(buf, off + DIRENT_HEADER);
}

/** Put the metadata_csum tail entry at the end of a directory block (checksum filled later). */
export function writeDirTail(block: Buffer): void {
  const o = block.length - DIR_TAIL_SIZE;
  block.fill(0, o);
  block.writeUInt16LE(DIR_TAIL_SIZE, o + 4);
  block.writeUInt8(TAIL_FILETYPE, o + 7);
}

/**
 * The inode of the entry named `want` in one region, or null; checks each rec_len it walks
 * over (a lookup need not build every entry).
 */
export function findDirent(buf: Buffer, want: Buffer, fileType: boolean, dev: string, where: string, at?: bigint): number | null {
  let off = 0;
  while (off < buf.length) {
    if (off + DIRENT_HEADER > buf.length) throw corrupt(dev, where, `directory entry at offset ${off} overruns the block`, at === undefined ? undefined : at + BigInt(off));
    const ino = buf.readUInt32LE(off);
    const recLen = recLenFromDisk(buf.readUInt16LE(off + 4), buf.length);
    const nameLen = fileType ? buf[off + 6]! : buf.readUInt16LE(off + 6);
    if (recLen < DIRENT_HEADER || recLen % 4 !== 0 || off + recLen > buf.length || (ino !== 0 && direntSize(nameLen) > recLen)) {
      throw corrupt(dev, where, `directory entry at offset ${off} has bad rec_len ${recLen} (name_len ${nameLen})`, at === undefined ? undefined : at + BigInt(off));
    }
    if (ino !== 0 && nameLen === want.length && buf.compare(want, 0, want.length, off + DIRENT_HEADER, off + DIRENT_HEADER + nameLen) === 0) return ino;
    off += recLen;
  }
  return null;
}

export interface PackEntry {
  ino: number;
  name: Buffer;
  fileType: number;
}

/**
 * A directory block holding exactly `entries`, the last one spanning the free space (an empty
 * block is one unused entry), with a checksum tail when `csum` (checksum filled later).
 */
export function packDirBlock(entries: PackEntry[], blockSize: number, fileType: boolean, csum: boolean): Buffer {
  const span = blockSize - (csum ? DIR_TAIL_SIZE : 0);
  const buf = Buffer.alloc(blockSize);
  let off = 0;
  entries.forEach((e, i) => {
    const len = i === entries.length - 1 ? span - off : direntSize(e.name.length);
    writeDirent(buf, off, e.ino, e.name, e.fileType, len, fileType);
    off += len;
  });
  if (!entries.length) buf.writeUInt16LE(recLenToDisk(span), 4);
  if (csum) writeDirTail(buf);
  return buf;
}

/** The "." and ".." entries that start every directory. */
export function dotEntries(self: number, parent: number): PackEntry[] {
  return [{ ino: self, name: Buffer.from('.'), fileType: 2 }, { ino: parent, name: Buffer.from('..'), fileType: 2 }];
}
