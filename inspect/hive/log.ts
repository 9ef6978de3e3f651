/**
 * Transaction logs (`.LOG1`, `.LOG2`, `.LOG`): the changes Windows had logged but not yet
 * written to a dirty hive, replayed in memory (never written back) so that a reader sees the
 * hive Windows would load. Layout after Maxim Suhanov's "Windows registry file format
 * specification" (§ Format of transaction log files):
 * - every log starts with a 512-byte copy of the hive's base block (file type 1 or 2 for the
 *   old format, 6 for the new one) with a valid checksum;
 * - new format (Windows 8.1+): from byte 512, 512-aligned "HvLE" entries, each a sequence
 *   number, the hbins size, (offset, size) page references and the pages, sealed by two
 *   Marvin32 hashes. Entries from the primary's secondary sequence number on are applied in
 *   order, LOG1's and LOG2's together; a gap, a bad hash or a bad size ends the replay;
 * - old format (Vista to 8): a "DIRT" bitmap at byte 512, one bit per 512-byte page of the
 *   hbins, then the dirty pages, applicable when the log's timestamp equals the primary's.
 */
import { BASE_BLOCK_SIZE, checksum, checksumMatches } from './base-block.js';
import { HiveError } from './errors.js';
import { HIVE_LOG_SEED, marvin32 } from './marvin32.js';

/** A log file found beside a hive. */
export interface HiveLog {
  name: string;
  bytes: Buffer;
}

/** A dirty hive with its logs applied. */
export interface Recovered {
  bytes: Buffer;
  /** What was applied, for the caller's warning ("SYSTEM.LOG1: 2 entries, sequence 5 to 6"). */
  applied: string[];
}

const LOG_HEADER = 512;
const ENTRY_HEADER = 40;
const PAGE = 512;
const PRIMARY_SEQ = 4;
const SECONDARY_SEQ = 8;
const TIMESTAMP = 12;
const FILE_TYPE = 28;
const BINS_SIZE = 40;
const CHECKSUM = 508;
/** Hbins past this are refused: no allocation is sized from a log without a cap. */
const MAX_BINS = 1 << 30;

/** The base block is dirty: a checksum that does not match, or sequence numbers that differ. */
export function isDirty(hive: Buffer): boolean {
  if (hive.length < BASE_BLOCK_SIZE) return false; // too short to be a hive: the parser says so
  return hive.readUInt32LE(PRIMARY_SEQ) !== hive.readUInt32LE(SECONDARY_SEQ) || !checksumMatches(hive);
}

/** A log's own 512-byte base block, when it is one: "regf", a log file type and a valid checksum. */
function logBase(log: HiveLog): { type: number; timestamp: bigint; binsSize: number } | undefined {
  const b = log.bytes;
  if (b.length < LOG_HEADER || b.toString('latin1', 0, 4) !== 'regf' || !checksumMatches(b)) return undefined;
  const type = b.readUInt32LE(FILE_TYPE);
  if (type !== 1 && type !== 2 && type !== 6) return undefined;
  return { type, timestamp: b.readBigUInt64LE(TIMESTAMP), binsSize: b.readUInt32LE(BINS_SIZE) };
}

interface Entry {
  log: string;
  seq: number;
  binsSize: number;
  pages: { offset: number; data: Buffer }[];
}

/** The valid HvLE entries of a new-format log, in file order, up to the first that is not. */
function entries(log: HiveLog): Entry[] {
  const b = log.bytes;
  const out: Entry[] = [];
  for (let at = LOG_HEADER; at + ENTRY_HEADER <= b.length;) {
    if (b.toString('latin1', at, at + 4) !== 'HvLE') break;
    const size = b.readUInt32LE(at + 4);
    if (size < ENTRY_HEADER || size % PAGE !== 0 || at + size > b.length) break;
    const binsSize = b.readUInt32LE(at + 16);
    const count = b.readUInt32LE(at + 20);
    if (binsSize === 0 || binsSize % 4096 !== 0 || binsSize > MAX_BINS || ENTRY_HEADER + count * 8 > size) break;
    const entry = b.subarray(at, at + size);
    if (marvin32(entry.subarray(ENTRY_HEADER), HIVE_LOG_SEED) !== entry.readBigUInt64LE(24)) break;
    if (marvin32(entry.subarray(0, 32), HIVE_LOG_SEED) !== entry.readBigUInt64LE(32)) break;
    const pages: Entry['pages'] = [];
    let data = ENTRY_HEADER + count * 8;
    let ok = true;
    for (let i = 0; i < count; i++) {
      const offset = entry.readUInt32LE(ENTRY_HEADER + i * 8);
      const len = entry.readUInt32LE(ENTRY_HEADER + i * 8 + 4);
      if (len === 0 || data + len > size || offset + len > binsSize) {
        ok = false;
        break;
      }
      pages.push({ offset, data: entry.subarray(data, data + len) });
      data += len;
    }
    if (!ok) break;
    out.push({ log: log.name, seq: entry.readUInt32LE(12), binsSize, pages });
    at += size;
  }
  return out;
}

/**
 * Apply the logs to a dirty hive: a new buffer, or undefined when no log applies (then the
 * hive is read as it is). The primary's bytes are never changed.
 */
export function replayLogs(primary: Buffer, name: string, logs: HiveLog[]): Recovered | undefined {
  const valid = logs.map((log) => ({ log, base: logBase(log) })).filter((l) => l.base);
  if (valid.length === 0 || primary.length < BASE_BLOCK_SIZE) return undefined;
  // A primary base block with a bad checksum is taken from a log, as Windows does.
  let base = primary.subarray(0, BASE_BLOCK_SIZE);
  if (!checksumMatches(base)) {
    base = Buffer.concat([valid[0]!.log.bytes.subarray(0, LOG_HEADER), primary.subarray(LOG_HEADER, BASE_BLOCK_SIZE)]);
    base.writeUInt32LE(0, FILE_TYPE);
  }
  const newFormat = valid.filter((l) => l.base!.type === 6).map((l) => l.log);
  if (newFormat.length > 0) return replayEntries(primary, base, name, newFormat);
  const timestamp = base.readBigUInt64LE(TIMESTAMP);
  const old = valid.find((l) => l.base!.timestamp === timestamp && l.log.bytes.readUInt32LE(PRIMARY_SEQ) === l.log.bytes.readUInt32LE(SECONDARY_SEQ));
  return old ? replayDirtyVector(primary, base, name, old.log) : undefined;
}

/** A copy of the hive grown or cut to `binsSize` of hbins, under the given base block. */
function rebuilt(primary: Buffer, base: Buffer, binsSize: number, name: string): Buffer {
  if (binsSize > MAX_BINS) throw new HiveError(name, 'transaction log', `hbins size ${binsSize} is past the ${MAX_BINS}-byte cap`);
  const out = Buffer.alloc(BASE_BLOCK_SIZE + binsSize);
  primary.copy(out, BASE_BLOCK_SIZE, BASE_BLOCK_SIZE, Math.min(primary.length, out.length));
  base.copy(out, 0, 0, BASE_BLOCK_SIZE);
  return out;
}

/** Seal the replayed base block: sequence numbers agree, the hbins size and checksum match. */
function seal(out: Buffer, seq: number): Buffer {
  out.writeUInt32LE(seq >>> 0, PRIMARY_SEQ);
  out.writeUInt32LE(seq >>> 0, SECONDARY_SEQ);
  out.writeUInt32LE(out.length - BASE_BLOCK_SIZE, BINS_SIZE);
  out.writeUInt32LE(checksum(out), CHECKSUM);
  return out;
}

function replayEntries(primary: Buffer, base: Buffer, name: string, logs: HiveLog[]): Recovered | undefined {
  // LOG1 first, then LOG2 (the spec's order); sorted by sequence, the first copy of each kept.
  const bySeq = new Map<number, Entry>();
  for (const log of logs) for (const e of entries(log)) if (!bySeq.has(e.seq)) bySeq.set(e.seq, e);
  const from = base.readUInt32LE(SECONDARY_SEQ);
  const chain: Entry[] = [];
  for (let seq = from; bySeq.has(seq >>> 0); seq++) chain.push(bySeq.get(seq >>> 0)!);
  if (chain.length === 0) return undefined;
  const out = rebuilt(primary, base, chain.at(-1)!.binsSize, name);
  for (const e of chain) {
    for (const p of e.pages) {
      if (BASE_BLOCK_SIZE + p.offset + p.data.length > out.length) continue; // past a hive that later shrank
      p.data.copy(out, BASE_BLOCK_SIZE + p.offset);
    }
  }
  const applied = new Map<string, Entry[]>();
  for (const e of chain) applied.set(e.log, [...(applied.get(e.log) ?? []), e]);
  return {
    bytes: seal(out, chain.at(-1)!.seq + 1),
    applied: [...applied].map(([log, es]) => `${log}: ${es.length} ${es.length === 1 ? 'entry' : 'entries'} (sequence ${es[0]!.seq}${es.length > 1 ? ` to ${es.at(-1)!.seq}` : ''})`),
  };
}

function replayDirtyVector(primary: Buffer, base: Buffer, name: string, log: HiveLog): Recovered | undefined {
  const b = log.bytes;
  const binsSize = b.readUInt32LE(BINS_SIZE);
  if (binsSize === 0 || binsSize % 4096 !== 0) return undefined;
  const bits = binsSize / PAGE;
  const bitmapEnd = LOG_HEADER + 4 + Math.ceil(bits / 8);
  if (b.length < bitmapEnd || b.toString('latin1', LOG_HEADER, LOG_HEADER + 4) !== 'DIRT') return undefined;
  const out = rebuilt(primary, base, binsSize, name);
  let page = Math.ceil(bitmapEnd / PAGE) * PAGE;
  let count = 0;
  for (let i = 0; i < bits; i++) {
    if (!(b[LOG_HEADER + 4 + (i >> 3)]! & (1 << (i & 7)))) continue;
    if (page + PAGE > b.length) throw new HiveError(name, `transaction log ${log.name}`, `dirty page ${count} is past the end of the ${b.length}-byte log`, page);
    b.copy(out, BASE_BLOCK_SIZE + i * PAGE, page, page + PAGE);
    page += PAGE;
    count++;
  }
  if (count === 0) return undefined;
  return { bytes: seal(out, base.readUInt32LE(PRIMARY_SEQ)), applied: [`${log.name}: ${count} dirty ${count === 1 ? 'page' : 'pages'}`] };
}
