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
import type { FileMap } from './file-map.js';
import { blockCsum, COMMIT, dataCsum, JBD2_MAGIC, journalSuper, openJournalLog, SB, T, TAG, tagBytes, tailBytes, WHERE, type JournalLog } from './jbd2.js';
import { RevokeTable } from './journal-revoke.js';

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

type Log = JournalLog & { warn(m: string): void };

/** Replay the journal whose blocks `jmap` maps; null when the journal is clean (s_start 0). */
export async function replayJournal(io: BlockIO, jmap: FileMap, journalBlocks: number, warn: (m: string) => void): Promise<JournalReplay | null> {
  const log: Log = { ...(await openJournalLog(io, jmap, journalBlocks)), warn };
  if (log.start === 0) return null;
  const { txns, revokes, nextSeq } = await scan(log);
  const blocks = await apply(log, txns, revokes);
  return { blocks, transactions: txns.length, nextSequence: nextSeq, cleanSuper: { block: log.sbBlock, data: journalSuper(log, 0, nextSeq) } };
}

/**
 * Read the log: the committed transactions' tags, and a revoke table filled from committed
 * transactions only (jbd2's PASS_REVOKE stops at the end of the log the scan found).
 */
async function scan(log: Log): Promise<{ txns: Txn[]; revokes: RevokeTable; nextSeq: number }> {
  const { io, first, last } = log;
  const bs = io.blockSize;
  const tagLen = tagBytes(log);
  const tailLen = tailBytes(log);
  const blockCsumOk = (b: Buffer, at: number): boolean => blockCsum(log, b, at) === b.readUInt32BE(at);
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
      while (off + tagLen <= bs - tailLen) {
        const lo = b.readUInt32BE(off);
        const flags = log.csumV3 ? b.readUInt32BE(off + 4) : b.readUInt16BE(off + 6);
        const hi = log.is64 ? b.readUInt32BE(off + 8) : 0;
        const tagCsum = log.csumV3 ? b.readUInt32BE(off + 12) : log.csum ? b.readUInt16BE(off + 4) : null;
        n++;
        cur.tags.push({ fsBlock: hi * 2 ** 32 + lo, logBlock: advance(n), escaped: (flags & TAG.ESCAPE) !== 0, csum: tagCsum });
        off += tagLen + (flags & TAG.SAME_UUID ? 0 : 16);
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
      if (used < 16 || used > bs - tailLen) throw corrupt(io.name, `${WHERE} revoke block ${blk}`, `r_count ${used} out of range`);
      for (let off = 16; off + width <= used; off += width) pendingRevokes.push(log.is64 ? Number(b.readBigUInt64BE(off)) : b.readUInt32BE(off));
    } else if (type === T.COMMIT) {
      if (log.csum && !blockCsumOk(b, COMMIT.checksum)) {
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
        if (dataCsum(log, t.seq, await log.read(tag.logBlock)) !== tag.csum) {
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
