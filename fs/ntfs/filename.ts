/** The $FILE_NAME attribute, also the key of every directory ($I30) index entry. */
import { corrupt } from '../errors.js';

export const NAMESPACE = { POSIX: 0, WIN32: 1, DOS: 2, WIN32_AND_DOS: 3 } as const;

export interface FileName {
  parent: number;
  parentSeq: number;
  allocSize: number;
  dataSize: number;
  flags: number;
  namespace: number;
  name: string;
}

export function parseFileName(b: Buffer, device: string, what: string): FileName {
  if (b.length < 66) throw corrupt(device, what, `$FILE_NAME of ${b.length} bytes is too short`);
  const len = b[64]!;
  if (66 + len * 2 > b.length) throw corrupt(device, what, `file name of ${len} characters runs past its $FILE_NAME`);
  const ref = b.readBigUInt64LE(0);
  return {
    parent: Number(ref & 0xffffffffffffn),
    parentSeq: Number(ref >> 48n),
    allocSize: Number(b.readBigUInt64LE(40)),
    dataSize: Number(b.readBigUInt64LE(48)),
    flags: b.readUInt32LE(56),
    namespace: b[65]!,
    name: b.toString('utf16le', 66, 66 + len * 2),
  };
}
