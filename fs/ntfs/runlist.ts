/**
 * Runlists ("mapping pairs"): how a non-resident attribute's VCNs map to clusters. Each run
 * is a header byte (low nibble: length-field size, high nibble: offset-field size), a length
 * and a signed LCN delta; an absent delta is a sparse run.
 */
import { corrupt } from '../errors.js';

/** VCNs past 2^48 clusters cannot occur (NTFS files stop at 2^64 bytes). */
export const MAX_VCN = 2 ** 48;

export interface Run {
  vcn: number;
  /** First cluster on the volume, or -1 for a sparse run (reads as zeros). */
  lcn: number;
  len: number;
}

export interface RunContext {
  device: string;
  what: string;
  at: bigint;
  totalClusters: number;
}

function readSigned(b: Buffer, pos: number, size: number): number {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[pos + i]!);
  if (size > 0 && (b[pos + size - 1]! & 0x80) !== 0) v -= 1n << BigInt(size * 8);
  return Number(v);
}

function readUnsigned(b: Buffer, pos: number, size: number): number {
  let v = 0;
  for (let i = size - 1; i >= 0; i--) v = v * 256 + b[pos + i]!;
  return v;
}

/** Decode the runs of one attribute extent covering [startVcn, lastVcn]. */
export function decodeRuns(b: Buffer, startVcn: number, lastVcn: number, ctx: RunContext): Run[] {
  const runs: Run[] = [];
  let pos = 0;
  let vcn = startVcn;
  let lcn = 0;
  while (pos < b.length && b[pos] !== 0) {
    const h = b[pos]!;
    const lenSize = h & 0x0f;
    const ofsSize = h >> 4;
    const at = ctx.at + BigInt(pos);
    if (lenSize === 0 || lenSize > 8 || ofsSize > 8) throw corrupt(ctx.device, ctx.what, `bad runlist header byte 0x${h.toString(16)}`, at);
    if (pos + 1 + lenSize + ofsSize > b.length) throw corrupt(ctx.device, ctx.what, 'runlist runs past its attribute', at);
    const len = readUnsigned(b, pos + 1, lenSize);
    if (len <= 0 || len > MAX_VCN) throw corrupt(ctx.device, ctx.what, `bad run length ${len}`, at);
    if (ofsSize === 0) {
      runs.push({ vcn, lcn: -1, len });
    } else {
      lcn += readSigned(b, pos + 1 + lenSize, ofsSize);
      if (lcn < 0 || lcn + len > ctx.totalClusters) {
        throw corrupt(ctx.device, ctx.what, `run of ${len} clusters at cluster ${lcn} lies outside the volume of ${ctx.totalClusters} clusters`, at);
      }
      runs.push({ vcn, lcn, len });
    }
    vcn += len;
    pos += 1 + lenSize + ofsSize;
  }
  if (vcn !== lastVcn + 1 && !(runs.length === 0 && lastVcn === startVcn - 1)) {
    throw corrupt(ctx.device, ctx.what, `runlist covers VCNs ${startVcn}..${vcn - 1}, header says ${startVcn}..${lastVcn}`, ctx.at);
  }
  return runs;
}

/** Encode runs (VCN-contiguous, starting at runs[0].vcn) as mapping pairs, with the terminating 0. */
export function encodeRuns(runs: Run[]): Buffer {
  const out: number[] = [];
  let prev = 0;
  // Minimal two's-complement little-endian bytes.
  const bytesOf = (v: bigint): number[] => {
    const r: number[] = [];
    for (;;) {
      r.push(Number(v & 0xffn));
      const rest = v >> 8n;
      const top = (Number(v & 0xffn) & 0x80) !== 0;
      if ((rest === 0n && !top) || (rest === -1n && top)) return r;
      v = rest;
    }
  };
  for (const r of runs) {
    // Lengths are read back as signed numbers too (ntfs-3g refuses a top bit set).
    const lb = bytesOf(BigInt(r.len));
    const ob = r.lcn < 0 ? [] : bytesOf(BigInt(r.lcn - prev));
    if (r.lcn >= 0) prev = r.lcn;
    out.push(lb.length | (ob.length << 4), ...lb, ...ob);
  }
  out.push(0);
  return Buffer.from(out);
}

/** Index of the run holding `vcn` (runs sorted by VCN), or -1. */
export function findRun(runs: Run[], vcn: number): number {
  let lo = 0;
  let hi = runs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = runs[mid]!;
    if (vcn < r.vcn) hi = mid - 1;
    else if (vcn >= r.vcn + r.len) lo = mid + 1;
    else return mid;
  }
  return -1;
}
