/**
 * jbd2 journal replay (kernel ext4 docs, "Journal (jbd2)"): all fields big-endian. As the
 * kernel's recovery.c, in three steps: the scan reads the log from s_start transaction by
 * transaction (descriptor blocks tagging the data blocks that follow, revoke blocks, commit
 * blocks) until the first block that is not the next sequence's or has a bad checksum; the
 * revoke table keeps, for each block, the newest committed transaction that revoked it; the
 * apply step yields the final image of each journaled block that no later revoke cancels.
 */
import { corrupt } from '../errors.js';
import type { BlockIO, OverlayBlock } from './block-io.js';
import { crc32c } from './crc32c.js';
import type { FileMap } from './file-map.js';
import { RevokeTable } from './journal-revoke.js';

const JBD2_MAGIC = 0xc03b3998;
const T = { DESCRIPTOR: 1, COMMIT: 2, SB_V1: 3, SB_V2: 4, REVOKE: 5 } as const;
const JI = { REVOKE: 0x1, BIT64: 0x2, ASYNC_COMMIT: 0x4, CSUM_V2: 0x8, CSUM_V3: 0x10, FAST_COMMIT: 0x20 } as const;
const KNOWN_INCOMPAT = JI.REVOKE | JI.BIT64 | JI.ASYNC_COMMIT | JI.CSUM_V2 | JI.CSUM_V3 | JI.FAST_COMMIT;
const TAG = { ESCAPE: 1, SAME_UUID: 2, LAST: 8 } as const;
const SB = { blockSize: 0xc, maxLen: 0x10, first: 0x14, sequence: 0x18, start: 0x1c, incompat: 0x28, uuid: 0x30, numFcBlocks: 0x54, checksum: 0xfc } as const;
const COMMIT_CHECKSUM = 0x10;
const DEFAULT_FC_BLOCKS = 256;
const WHERE = 'jbd2 journal';

export interface JournalReplay {
  /** Device block → where its content after replay lives. */
  blocks: Map<number, OverlayBlock>;
  transactions: number;
  /** Next sequence number (for the journal superblock after a real replay). */
  nextSequence: number;
  /** Journal superblock with s_start cleared, and where it lives, to mark the journal clean. */
  cleanSuper: { block: number; data: Buffer };
}

interface Tag {
  fsBlock: number;
  logBlock: number;
  escaped: boolean;
  csum: number | null;
}

interface Txn {
  seq: number;
  tags: Tag[];
}

/** The journal superblock's facts the scan needs, and block access through the journal inode. */
interface Log {
  io: BlockIO;
  sb: Buffer;
  sbBlock: number;
  first: number;
  last: number;
  start: number;
  csum: boolean;
  csumV3: boolean;
  is64: boolean;
  seed: number;
  phys(n: number): Promise<number>;
  read(n: number): Promise<Buffer>;
  warn(m: string): void;
}

/** Replay the journal whose blocks `jmap` maps; null when the journal is clean (s_start 0). */
export async function replayJournal(io: BlockIO, jmap: FileMap, journalBlocks: number, warn: (m: string) => void): Promise<JournalReplay | null> {
  const log = await openLog(io, jmap, journalBlocks, warn);
  if (!log) return null;
  const { txns, revokes, nextSeq } = await scan(log);
  const blocks = await apply(log, txns, revokes);
  return { blocks, transactions: txns.length, nextSequence: nextSeq, cleanSuper: { block: log.sbBlock, data: cleanSuper(log, nextSeq) } };
}

async function openLog(io: BlockIO, jmap: FileMap, journalBlocks: number, warn: (m: string) => void): Promise<Log | null> {
  const phys = async (n: number): Promise<number> => {
    const r = await jmap.map(n, 1);
    if (r.pblk === 0) throw corrupt(io.name, WHERE, `journal block ${n} is not mapped`);
    return r.pblk;
  };
  const read = async (n: number): Promise<Buffer> => {
    const p = await phys(n);
    io.checkBlock(p, 1, WHERE);
    return io.readBlocks(p, 1);
  };
  const sbBlock = await phys(0);
  const sb = await read(0);
  const type = sb.readUInt32BE(4);
  if (sb.readUInt32BE(0) !== JBD2_MAGIC || (type !== T.SB_V1 && type !== T.SB_V2)) {
    throw corrupt(io.name, `${WHERE} superblock`, 'bad magic or block type', BigInt(sbBlock) * BigInt(io.blockSize));
  }
  const incompat = type === T.SB_V2 ? sb.readUInt32BE(SB.incompat) : 0;
  if (incompat & ~KNOWN_INCOMPAT) throw corrupt(io.name, `${WHERE} superblock`, `unknown journal features 0x${(incompat & ~KNOWN_INCOMPAT).toString(16)}`);
  if (sb.readUInt32BE(SB.blockSize) !== io.blockSize) throw corrupt(io.name, `${WHERE} superblock`, `journal block size ${sb.readUInt32BE(SB.blockSize)} differs from the filesystem's ${io.blockSize}`);
  const maxLen = sb.readUInt32BE(SB.maxLen);
  const first = sb.readUInt32BE(SB.first);
  const fcBlocks = incompat & JI.FAST_COMMIT ? sb.readUInt32BE(SB.numFcBlocks) || DEFAULT_FC_BLOCKS : 0;
  const last = maxLen - fcBlocks;
  if (maxLen > journalBlocks || first < 1 || first >= last) throw corrupt(io.name, `${WHERE} superblock`, `log range ${first}..${last} does not fit the journal of ${journalBlocks} blocks`);
  const start = sb.readUInt32BE(SB.start);
  if (start === 0) return null;
  if (start < first || start >= last) throw corrupt(io.name, `${WHERE} superblock`, `s_start ${start} is outside the log`);
  const csumV3 = (incompat & JI.CSUM_V3) !== 0;
  return {
    io, sb, sbBlock, first, last, start, csumV3,
    csum: csumV3 || (incompat & JI.CSUM_V2) !== 0,
    is64: (incompat & JI.BIT64) !== 0,
    seed: crc32c(0xffffffff, sb.subarray(SB.uuid, SB.uuid + 16)),
    phys, read, warn,
  };
}

/**
 * Read the log: the committed transactions' tags, and a revoke table filled from committed
 * transactions only (jbd2's PASS_REVOKE stops at the end of the log the scan found).
 */
async function scan(log: Log): Promise<{ txns: Txn[]; revokes: RevokeTable; nextSeq: number }> {
  const { io, first, last } = log;
  const bs = io.blockSize;
  const tagBytes = log.csumV3 ? 16 : (log.csum ? 14 : 12) - (log.is64 ? 0 : 4);
  const tailBytes = log.csum ? 4 : 0;
  const blockCsumOk = (b: Buffer, at: number): boolean => {
    const c = Buffer.from(b);
    const stored = c.readUInt32BE(at);
    c.writeUInt32BE(0, at);
    return crc32c(log.seed, c) === stored;
  };
  const txns: Txn[] = [];
  const revokes = new RevokeTable();
  let seq = log.sb.readUInt32BE(SB.sequence);
  let blk = log.start;
  const advance = (n: number): number => {
    let b = blk + n;
    while (b >= last) b -= last - first;
    return b;
  };
  let cur: Txn = { seq, tags: [] };
  let pendingRevokes: number[] = [];
  // Every log block is visited at most once: the log is no longer than the journal.
  for (let scanned = 0; scanned < last - first;) {
    const b = await log.read(blk);
    if (b.readUInt32BE(0) !== JBD2_MAGIC || b.readUInt32BE(8) !== seq) break;
    const type = b.readUInt32BE(4);
    if (type === T.DESCRIPTOR) {
      if (log.csum && !blockCsumOk(b, bs - 4)) {
        log.warn(`${io.name}: journal descriptor block ${blk} (sequence ${seq}) has a bad checksum; replay stops there`);
        break;
      }
      let off = 12;
      let n = 0;
      while (off + tagBytes <= bs - tailBytes) {
        const lo = b.readUInt32BE(off);
        const flags = log.csumV3 ? b.readUInt32BE(off + 4) : b.readUInt16BE(off + 6);
        const hi = log.is64 ? b.readUInt32BE(off + 8) : 0;
        const tagCsum = log.csumV3 ? b.readUInt32BE(off + 12) : log.csum ? b.readUInt16BE(off + 4) : null;
        n++;
        cur.tags.push({ fsBlock: hi * 2 ** 32 + lo, logBlock: advance(n), escaped: (flags & TAG.ESCAPE) !== 0, csum: tagCsum });
        off += tagBytes + (flags & TAG.SAME_UUID ? 0 : 16);
        if (flags & TAG.LAST) break;
      }
      blk = advance(n + 1);
      scanned += n + 1;
      continue;
    }
    if (type === T.REVOKE) {
      if (log.csum && !blockCsumOk(b, bs - 4)) {
        log.warn(`${io.name}: journal revoke block ${blk} (sequence ${seq}) has a bad checksum; replay stops there`);
        break;
      }
      const used = b.readUInt32BE(12);
      const width = log.is64 ? 8 : 4;
      if (used < 16 || used > bs - tailBytes) throw corrupt(io.name, `${WHERE} revoke block ${blk}`, `r_count ${used} out of range`);
      for (let off = 16; off + width <= used; off += width) pendingRevokes.push(log.is64 ? Number(b.readBigUInt64BE(off)) : b.readUInt32BE(off));
    } else if (type === T.COMMIT) {
      if (log.csum && !blockCsumOk(b, COMMIT_CHECKSUM)) {
        log.warn(`${io.name}: journal commit block ${blk} (sequence ${seq}) has a bad checksum; replay stops before it`);
        break;
      }
      txns.push(cur);
      for (const r of pendingRevokes) revokes.set(r, seq);
      pendingRevokes = [];
      seq = (seq + 1) >>> 0;
      cur = { seq, tags: [] };
    } else break;
    blk = advance(1);
    scanned++;
  }
  return { txns, revokes, nextSeq: seq };
}

/** Where each journaled block's final content lives: the last committed copy no revoke cancels. */
async function apply(log: Log, txns: Txn[], revokes: RevokeTable): Promise<Map<number, OverlayBlock>> {
  const { io } = log;
  const blocks = new Map<number, OverlayBlock>();
  for (const t of txns) {
    for (const tag of t.tags) {
      if (revokes.cancels(tag.fsBlock, t.seq)) continue;
      if (tag.csum !== null) {
        const seqBuf = Buffer.alloc(4);
        seqBuf.writeUInt32BE(t.seq);
        const c = crc32c(crc32c(log.seed, seqBuf), await log.read(tag.logBlock));
        if ((log.csumV3 ? c : c & 0xffff) !== tag.csum) {
          log.warn(`${io.name}: journal data block for fs block ${tag.fsBlock} (sequence ${t.seq}) has a bad checksum; not replayed`);
          continue;
        }
      }
      io.checkBlock(tag.fsBlock, 1, `${WHERE} tag (sequence ${t.seq})`);
      blocks.set(tag.fsBlock, { from: await log.phys(tag.logBlock), restoreWord: tag.escaped ? JBD2_MAGIC : null });
    }
  }
  return blocks;
}

/** The journal superblock marked clean, its sequence where the replay left off. */
function cleanSuper(log: Log, nextSeq: number): Buffer {
  const clean = Buffer.from(log.sb);
  clean.writeUInt32BE(0, SB.start);
  clean.writeUInt32BE(nextSeq, SB.sequence);
  if (log.csum) {
    clean.writeUInt32BE(0, SB.checksum);
    clean.writeUInt32BE(crc32c(0xffffffff, clean, 0, 1024), SB.checksum);
  }
  return clean;
}
