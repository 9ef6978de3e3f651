/**
 * One attribute record inside an MFT record: the common header, then either a resident value
 * or the non-resident sizes and runlist.
 */
import { corrupt } from '../errors.js';
import { decodeRuns, MAX_VCN, type Run } from './runlist.js';

export const AT = {
  STANDARD_INFORMATION: 0x10,
  ATTRIBUTE_LIST: 0x20,
  FILE_NAME: 0x30,
  SECURITY_DESCRIPTOR: 0x50,
  VOLUME_NAME: 0x60,
  VOLUME_INFORMATION: 0x70,
  DATA: 0x80,
  INDEX_ROOT: 0x90,
  INDEX_ALLOCATION: 0xa0,
  BITMAP: 0xb0,
  REPARSE_POINT: 0xc0,
  END: 0xffffffff,
} as const;

export const ATTR_FLAG = { COMPRESSED: 0x0001, ENCRYPTED: 0x4000, SPARSE: 0x8000 } as const;

export interface AttrRecord {
  type: number;
  name: string;
  flags: number;
  id: number;
  /** MFT record holding this attribute, and its byte offset there (for errors and writes). */
  record: number;
  offset: number;
  resident: boolean;
  /** Resident value. */
  value?: Buffer;
  startVcn: number;
  lastVcn: number;
  runs: Run[];
  allocSize: number;
  dataSize: number;
  initSize: number;
  compSize: number;
  /** log2 of the compression unit in clusters (0 = not compressed). */
  cuShift: number;
}

export interface AttrContext {
  device: string;
  totalClusters: number;
  /** Byte position of the record on the device, for error offsets. */
  at: bigint;
}

function safe(v: bigint, ctx: AttrContext, what: string, at: number): number {
  if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(ctx.device, what, `size field ${v} out of range`, ctx.at + BigInt(at));
  return Number(v);
}

/** Parse the attribute at `pos` of record `recNo` (already fixed up); `end` bounds it. */
export function parseAttribute(rec: Buffer, pos: number, end: number, recNo: number, ctx: AttrContext): AttrRecord {
  const what = `MFT record ${recNo} attribute at offset ${pos}`;
  const type = rec.readUInt32LE(pos);
  const len = rec.readUInt32LE(pos + 4);
  if (len < 24 || (len & 7) !== 0 || pos + len > end) throw corrupt(ctx.device, what, `bad attribute length ${len}`, ctx.at + BigInt(pos));
  const nonResident = rec[pos + 8]!;
  const nameLen = rec[pos + 9]!;
  const nameOfs = rec.readUInt16LE(pos + 10);
  if (nameLen > 0 && nameOfs + nameLen * 2 > len) throw corrupt(ctx.device, what, 'attribute name runs past the attribute', ctx.at + BigInt(pos));
  const name = nameLen > 0 ? rec.toString('utf16le', pos + nameOfs, pos + nameOfs + nameLen * 2) : '';
  const a: AttrRecord = {
    type, name, flags: rec.readUInt16LE(pos + 12), id: rec.readUInt16LE(pos + 14), record: recNo, offset: pos,
    resident: nonResident === 0, startVcn: 0, lastVcn: -1, runs: [], allocSize: 0, dataSize: 0, initSize: 0, compSize: 0, cuShift: 0,
  };
  if (nonResident === 0) {
    const vlen = rec.readUInt32LE(pos + 16);
    const vofs = rec.readUInt16LE(pos + 20);
    if (vofs + vlen > len) throw corrupt(ctx.device, what, `resident value (${vlen} bytes at ${vofs}) runs past the attribute`, ctx.at + BigInt(pos));
    a.value = rec.subarray(pos + vofs, pos + vofs + vlen);
    a.dataSize = a.initSize = vlen;
    a.allocSize = (vlen + 7) & ~7;
    return a;
  }
  if (len < 64) throw corrupt(ctx.device, what, `non-resident attribute of ${len} bytes is too short`, ctx.at + BigInt(pos));
  a.startVcn = safe(rec.readBigInt64LE(pos + 16), ctx, what, pos + 16);
  a.lastVcn = Number(rec.readBigInt64LE(pos + 24));
  if (a.lastVcn < a.startVcn - 1 || a.lastVcn > MAX_VCN) throw corrupt(ctx.device, what, `bad VCN range ${a.startVcn}..${a.lastVcn}`, ctx.at + BigInt(pos + 16));
  const runsOfs = rec.readUInt16LE(pos + 32);
  a.cuShift = rec.readUInt16LE(pos + 34);
  if (a.cuShift > 16) throw corrupt(ctx.device, what, `bad compression unit ${a.cuShift}`, ctx.at + BigInt(pos + 34));
  a.allocSize = safe(rec.readBigInt64LE(pos + 40), ctx, what, pos + 40);
  a.dataSize = safe(rec.readBigInt64LE(pos + 48), ctx, what, pos + 48);
  a.initSize = safe(rec.readBigInt64LE(pos + 56), ctx, what, pos + 56);
  a.compSize = len >= 72 && (a.flags & (ATTR_FLAG.COMPRESSED | ATTR_FLAG.SPARSE)) !== 0 ? safe(rec.readBigInt64LE(pos + 64), ctx, what, pos + 64) : a.allocSize;
  if (runsOfs < 64 || runsOfs > len) throw corrupt(ctx.device, what, `runlist offset ${runsOfs} out of range`, ctx.at + BigInt(pos + 32));
  a.runs = decodeRuns(rec.subarray(pos + runsOfs, pos + len), a.startVcn, a.lastVcn, {
    device: ctx.device, what, at: ctx.at + BigInt(pos + runsOfs), totalClusters: ctx.totalClusters,
  });
  return a;
}
