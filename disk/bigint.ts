/** Conversions between the BigInt offsets of the block layer and JS numbers. */
import { DiskError } from './errors.js';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A BigInt as a number, refused with a clear error where a number would lose precision. */
export function toSafeNumber(value: bigint, image: string, what: string): number {
  if (value > MAX_SAFE || value < -MAX_SAFE) {
    throw new DiskError(image, `${what} ${value} is too large to handle as a number`);
  }
  return Number(value);
}

/** Read an unsigned 64-bit little-endian field as BigInt. */
export function u64(buf: Buffer, at: number): bigint {
  return buf.readBigUInt64LE(at);
}

export function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

export function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
