/**
 * An MFT record ("FILE" record): header, fixups, then attributes up to the 0xFFFFFFFF end
 * marker.
 */
import { corrupt } from '../errors.js';
import { AT, parseAttribute, type AttrContext, type AttrRecord } from './attribute.js';
import { applyFixups } from './fixup.js';

export const RECORD_FLAG = { IN_USE: 0x0001, DIRECTORY: 0x0002 } as const;

export interface MftRecord {
  number: number;
  sequence: number;
  linkCount: number;
  flags: number;
  /** Base record number, 0 for a base record. */
  base: number;
  attrs: AttrRecord[];
  /** The fixed-up record bytes (writes patch these and re-protect). */
  raw: Buffer;
  /** Byte position on the device, when known (for errors). */
  at: bigint;
}

const MAX_ATTRS = 1024;

/** Parse record `num` from `raw` (a private copy, fixed up in place). */
export function parseRecord(raw: Buffer, num: number, ctx: AttrContext): MftRecord {
  const what = `MFT record ${num}`;
  const magic = raw.toString('latin1', 0, 4);
  if (magic !== 'FILE') throw corrupt(ctx.device, what, magic === 'BAAD' ? 'record marked BAAD by chkdsk' : `bad magic ${JSON.stringify(magic)}`, ctx.at);
  applyFixups(raw, ctx.device, what, ctx.at);
  const attrOfs = raw.readUInt16LE(20);
  const used = raw.readUInt32LE(24);
  const alloc = raw.readUInt32LE(28);
  if (alloc !== raw.length) throw corrupt(ctx.device, what, `allocated size ${alloc} differs from record size ${raw.length}`, ctx.at + 28n);
  if (used > raw.length || used < attrOfs + 8) throw corrupt(ctx.device, what, `bytes in use ${used} out of range`, ctx.at + 24n);
  if (attrOfs < 42 || (attrOfs & 7) !== 0) throw corrupt(ctx.device, what, `first attribute offset ${attrOfs} out of range`, ctx.at + 20n);
  const rec: MftRecord = {
    number: num,
    sequence: raw.readUInt16LE(16),
    linkCount: raw.readUInt16LE(18),
    flags: raw.readUInt16LE(22),
    base: Number(raw.readBigUInt64LE(32) & 0xffffffffffffn),
    attrs: [],
    raw,
    at: ctx.at,
  };
  let pos = attrOfs;
  for (;;) {
    if (pos + 4 > used) throw corrupt(ctx.device, what, 'attributes run past bytes in use without an end marker', ctx.at + BigInt(pos));
    if (raw.readUInt32LE(pos) === AT.END) break;
    if (rec.attrs.length >= MAX_ATTRS) throw corrupt(ctx.device, what, 'too many attributes', ctx.at + BigInt(pos));
    if (pos + 24 > used) throw corrupt(ctx.device, what, 'attribute header runs past bytes in use', ctx.at + BigInt(pos));
    const a = parseAttribute(raw, pos, used, num, ctx);
    rec.attrs.push(a);
    pos += raw.readUInt32LE(pos + 4);
  }
  return rec;
}
