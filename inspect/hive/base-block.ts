/**
 * The base block: the hive's first 4096 bytes ("regf", sequence numbers, version, root cell,
 * size of the hbins, XOR checksum over the first 508 bytes).
 */
import { HiveError } from './errors.js';

export const BASE_BLOCK_SIZE = 4096;
const SIGNATURE = 'regf';
const PRIMARY_SEQ = 4;
const SECONDARY_SEQ = 8;
const TIMESTAMP = 12;
const MAJOR = 20;
const MINOR = 24;
const FILE_TYPE = 28;
const ROOT_CELL = 36;
const BINS_SIZE = 40;
const CHECKSUM = 508;

export interface BaseBlock {
  primarySeq: number;
  secondarySeq: number;
  minor: number;
  /** Byte offset of the root key's cell in the file. */
  root: number;
  /** Bytes of hbins after the base block. */
  binsSize: number;
}

/** XOR of the first 127 dwords; Windows stores 0 as 1 and -1 as -2. */
export function checksum(b: Buffer): number {
  let x = 0;
  for (let i = 0; i < CHECKSUM; i += 4) x ^= b.readUInt32LE(i);
  x >>>= 0;
  return x === 0 ? 1 : x === 0xffffffff ? 0xfffffffe : x;
}

/** The stored checksum matches (Windows's rule, or the raw XOR some writers store). */
export function checksumMatches(b: Buffer): boolean {
  const stored = b.readUInt32LE(CHECKSUM);
  let raw = 0;
  for (let i = 0; i < CHECKSUM; i += 4) raw ^= b.readUInt32LE(i);
  return stored === checksum(b) || stored === raw >>> 0;
}

export function parseBaseBlock(b: Buffer, name: string): BaseBlock {
  const fail = (detail: string, at = 0): never => {
    throw new HiveError(name, 'base block', detail, at);
  };
  if (b.length < BASE_BLOCK_SIZE) fail(`file is ${b.length} bytes, shorter than the 4096-byte base block`);
  if (b.toString('latin1', 0, 4) !== SIGNATURE) fail('no "regf" signature');
  const major = b.readUInt32LE(MAJOR);
  const minor = b.readUInt32LE(MINOR);
  if (major !== 1 || minor < 2 || minor > 6) fail(`unsupported version ${major}.${minor}`, MAJOR);
  if (!checksumMatches(b)) fail(`checksum 0x${b.readUInt32LE(CHECKSUM).toString(16)} does not match 0x${checksum(b).toString(16)}`, CHECKSUM);
  if (b.readUInt32LE(FILE_TYPE) !== 0) fail(`file type ${b.readUInt32LE(FILE_TYPE)} is not a primary hive file`, FILE_TYPE);
  const binsSize = b.readUInt32LE(BINS_SIZE);
  if (binsSize === 0 || binsSize % 4096 !== 0) fail(`hbins size ${binsSize} is not a positive multiple of 4096`, BINS_SIZE);
  if (BASE_BLOCK_SIZE + binsSize > b.length) fail(`hbins size ${binsSize} runs past the end of the ${b.length}-byte file (truncated?)`, BINS_SIZE);
  const rootRel = b.readUInt32LE(ROOT_CELL);
  if (rootRel >= binsSize) fail(`root cell offset 0x${rootRel.toString(16)} is outside the hbins`, ROOT_CELL);
  return {
    primarySeq: b.readUInt32LE(PRIMARY_SEQ),
    secondarySeq: b.readUInt32LE(SECONDARY_SEQ),
    minor,
    root: BASE_BLOCK_SIZE + rootRel,
    binsSize,
  };
}

/**
 * Mark the base block as written: both sequence numbers one past the primary, the hbins size,
 * the modification time, and the checksum.
 */
export function sealBaseBlock(b: Buffer, binsSize: number, now: Date): void {
  const seq = (b.readUInt32LE(PRIMARY_SEQ) + 1) >>> 0;
  b.writeUInt32LE(seq, PRIMARY_SEQ);
  b.writeUInt32LE(seq, SECONDARY_SEQ);
  b.writeBigUInt64LE(filetime(now), TIMESTAMP);
  b.writeUInt32LE(binsSize, BINS_SIZE);
  b.writeUInt32LE(checksum(b), CHECKSUM);
}

/** A Date as a Windows FILETIME: 100 ns ticks since 1601-01-01. */
export function filetime(d: Date): bigint {
  return (BigInt(d.getTime()) + 11644473600000n) * 10000n;
}
