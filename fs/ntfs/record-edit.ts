/**
 * Changing an MFT record: replace one attribute's bytes (the attributes after it move), and
 * build resident or non-resident attribute records that keep the old one's type, name,
 * flags and id.
 */
import { FsError } from '../errors.js';
import type { AttrRecord } from './attribute.js';
import type { MftRecord } from './record.js';
import { encodeRuns, type Run } from './runlist.js';

const align8 = (n: number): number => (n + 7) & ~7;

/** Replace the bytes of attribute `a` in `rec.raw` by `bytes` (checked to fit the record). */
export function replaceAttribute(rec: MftRecord, a: AttrRecord, bytes: Buffer, device: string): void {
  const raw = rec.raw;
  const used = raw.readUInt32LE(24);
  const oldLen = raw.readUInt32LE(a.offset + 4);
  const newUsed = used - oldLen + bytes.length;
  if (newUsed > raw.length) {
    throw new FsError('ENOSPC', `${device}: MFT record ${rec.number} has no room for ${bytes.length} bytes of attribute 0x${a.type.toString(16)} (moving attributes to extension records is not supported)`);
  }
  const tail = Buffer.from(raw.subarray(a.offset + oldLen, used));
  bytes.copy(raw, a.offset);
  tail.copy(raw, a.offset + bytes.length);
  if (newUsed < used) raw.fill(0, newUsed, used);
  raw.writeUInt32LE(newUsed, 24);
}

function nameBytes(a: AttrRecord): Buffer {
  return Buffer.from(a.name, 'utf16le');
}

/** A resident attribute record like `a`, holding `value`. */
export function residentAttr(a: AttrRecord, value: Buffer): Buffer {
  const name = nameBytes(a);
  const valueOfs = align8(24 + name.length);
  const b = Buffer.alloc(align8(valueOfs + value.length));
  b.writeUInt32LE(a.type, 0);
  b.writeUInt32LE(b.length, 4);
  b[8] = 0;
  b[9] = a.name.length;
  b.writeUInt16LE(24, 10);
  b.writeUInt16LE(a.flags & ~0x8001, 12);
  b.writeUInt16LE(a.id, 14);
  b.writeUInt32LE(value.length, 16);
  b.writeUInt16LE(valueOfs, 20);
  name.copy(b, 24);
  value.copy(b, valueOfs);
  return b;
}

export interface NonResidentSizes {
  allocSize: number;
  dataSize: number;
  initSize: number;
  runs: Run[];
}

/**
 * A non-resident attribute record like `a` holding `s.runs`, which start at the extent's
 * first VCN (0 for a whole attribute; later extents carry zero sizes).
 */
export function nonResidentAttr(a: AttrRecord, s: NonResidentSizes, clusterSize: number): Buffer {
  const sparse = (a.flags & 0x8000) !== 0;
  const headerLen = sparse ? 72 : 64;
  const name = nameBytes(a);
  const runsOfs = align8(headerLen + name.length);
  const mp = encodeRuns(s.runs);
  const b = Buffer.alloc(align8(runsOfs + mp.length));
  const startVcn = s.runs[0]?.vcn ?? 0;
  const lastVcn = s.runs.length ? s.runs[s.runs.length - 1]!.vcn + s.runs[s.runs.length - 1]!.len - 1 : -1;
  b.writeUInt32LE(a.type, 0);
  b.writeUInt32LE(b.length, 4);
  b[8] = 1;
  b[9] = a.name.length;
  b.writeUInt16LE(headerLen, 10);
  b.writeUInt16LE(a.flags, 12);
  b.writeUInt16LE(a.id, 14);
  b.writeBigInt64LE(BigInt(startVcn), 16);
  b.writeBigInt64LE(BigInt(lastVcn), 24);
  b.writeUInt16LE(runsOfs, 32);
  b.writeUInt16LE(0, 34);
  b.writeBigInt64LE(BigInt(s.allocSize), 40);
  b.writeBigInt64LE(BigInt(s.dataSize), 48);
  b.writeBigInt64LE(BigInt(s.initSize), 56);
  if (sparse && startVcn === 0) {
    const allocated = s.runs.filter((r) => r.lcn >= 0).reduce((n, r) => n + r.len, 0);
    b.writeBigInt64LE(BigInt(allocated * clusterSize), 64);
  }
  name.copy(b, headerLen);
  mp.copy(b, runsOfs);
  return b;
}

/** Insert attribute bytes `bytes` into `rec` in NTFS order (by type, then name), giving it a fresh id. */
export function insertAttribute(rec: MftRecord, bytes: Buffer, device: string): void {
  const raw = rec.raw;
  const used = raw.readUInt32LE(24);
  if (used + bytes.length > raw.length) throw new FsError('ENOSPC', `${device}: MFT record ${rec.number} has no room for a new attribute of ${bytes.length} bytes`);
  const type = bytes.readUInt32LE(0);
  const name = bytes.toString('utf16le', bytes.readUInt16LE(10), bytes.readUInt16LE(10) + bytes[9]! * 2);
  const next = rec.attrs.find((a) => a.type > type || (a.type === type && a.name > name));
  const at = next ? next.offset : used - 8;
  const id = raw.readUInt16LE(40);
  bytes.writeUInt16LE(id, 14);
  raw.writeUInt16LE((id + 1) & 0xffff, 40);
  const tail = Buffer.from(raw.subarray(at, used));
  bytes.copy(raw, at);
  tail.copy(raw, at + bytes.length);
  raw.writeUInt32LE(used + bytes.length, 24);
}

/** A new empty resident attribute of `type` named `name`, for insertAttribute. */
export function newResidentAttr(type: number, name: string): Buffer {
  return residentAttr({ type, name, flags: 0, id: 0 } as AttrRecord, Buffer.alloc(0));
}

/** The bytes a non-resident attribute like `a` needs besides its mapping pairs. */
export function nonResidentOverhead(a: AttrRecord): number {
  return align8(((a.flags & 0x8000) !== 0 ? 72 : 64) + a.name.length * 2) + 8;
}

/** A fresh record image: header and update sequence array, no attributes yet. */
export function emptyRecord(size: number, num: number, seq: number, flags: number, baseRef: bigint): Buffer {
  const raw = Buffer.alloc(size);
  const usaCount = size / 512 + 1;
  const first = align8(48 + usaCount * 2);
  raw.write('FILE', 0, 'latin1');
  raw.writeUInt16LE(48, 4);
  raw.writeUInt16LE(usaCount, 6);
  raw.writeUInt16LE(seq, 16);
  raw.writeUInt16LE(first, 20);
  raw.writeUInt16LE(flags, 22);
  raw.writeUInt32LE(first + 8, 24);
  raw.writeUInt32LE(size, 28);
  raw.writeBigUInt64LE(baseRef, 32);
  raw.writeUInt32LE(num, 44);
  raw.writeUInt32LE(0xffffffff, first);
  return raw;
}

/** An $ATTRIBUTE_LIST value listing `attrs` (with the record refs they live in). */
export function attributeListValue(attrs: { a: AttrRecord; ref: bigint }[]): Buffer {
  const sorted = [...attrs].sort((x, y) => x.a.type - y.a.type || (x.a.name < y.a.name ? -1 : x.a.name > y.a.name ? 1 : 0) || x.a.startVcn - y.a.startVcn);
  const parts = sorted.map(({ a, ref }) => {
    const name = Buffer.from(a.name, 'utf16le');
    const e = Buffer.alloc(align8(26 + name.length));
    e.writeUInt32LE(a.type, 0);
    e.writeUInt16LE(e.length, 4);
    e[6] = a.name.length;
    e[7] = 26;
    e.writeBigUInt64LE(BigInt(a.resident ? 0 : a.startVcn), 8);
    e.writeBigUInt64LE(ref, 16);
    e.writeUInt16LE(a.id, 24);
    name.copy(e, 26);
    return e;
  });
  return Buffer.concat(parts);
}
