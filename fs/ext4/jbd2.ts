/**
 * The jbd2 journal's on-disk format (kernel ext4 docs, "Journal (jbd2)"; all fields
 * big-endian), shared by the replay (journal.ts) and the writer (journal-writer.ts): block
 * types, feature bits, tag layout, and the journal superblock read through the journal inode.
 */
import { corrupt } from '../errors.js';
import type { BlockIO } from './block-io.js';
import { crc32c } from './crc32c.js';
import type { FileMap } from './file-map.js';

export const JBD2_MAGIC = 0xc03b3998;
export const T = { DESCRIPTOR: 1, COMMIT: 2, SB_V1: 3, SB_V2: 4, REVOKE: 5 } as const;
const JI = { REVOKE: 0x1, BIT64: 0x2, ASYNC_COMMIT: 0x4, CSUM_V2: 0x8, CSUM_V3: 0x10, FAST_COMMIT: 0x20 } as const;
/** s_feature_compat: the old crc32 commit checksum (JBD2_FEATURE_COMPAT_CHECKSUM). */
export const JC_CHECKSUM = 0x1;
const KNOWN_INCOMPAT = JI.REVOKE | JI.BIT64 | JI.ASYNC_COMMIT | JI.CSUM_V2 | JI.CSUM_V3 | JI.FAST_COMMIT;
export const TAG = { ESCAPE: 1, SAME_UUID: 2, LAST: 8 } as const;
export const SB = { blockSize: 0xc, maxLen: 0x10, first: 0x14, sequence: 0x18, start: 0x1c, compat: 0x24, incompat: 0x28, uuid: 0x30, numFcBlocks: 0x54, checksum: 0xfc } as const;
/** Where a commit block keeps its checksum (h_chksum[0]) and its time. */
export const COMMIT = { checksum: 0x10, sec: 0x30, nsec: 0x38 } as const;
/** Block header: magic, block type, sequence. */
export const HEADER_BYTES = 12;
export const UUID_BYTES = 16;
const DEFAULT_FC_BLOCKS = 256;
export const WHERE = 'jbd2 journal';

/** The journal superblock's facts, and its blocks reached through the journal inode. */
export interface JournalLog {
  io: BlockIO;
  sb: Buffer;
  sbBlock: number;
  /** The log is blocks [first, last) of the journal; `start` is 0 when it is empty. */
  first: number;
  last: number;
  start: number;
  compat: number;
  csum: boolean;
  csumV3: boolean;
  is64: boolean;
  /** crc32c seed of every checksum: the journal UUID's. */
  seed: number;
  phys(n: number): Promise<number>;
  read(n: number): Promise<Buffer>;
}

/** Read and check the journal superblock of the journal whose blocks `jmap` maps. */
export async function openJournalLog(io: BlockIO, jmap: FileMap, journalBlocks: number): Promise<JournalLog> {
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
  if (start !== 0 && (start < first || start >= last)) throw corrupt(io.name, `${WHERE} superblock`, `s_start ${start} is outside the log`);
  const csumV3 = (incompat & JI.CSUM_V3) !== 0;
  return {
    io, sb, sbBlock, first, last, start, csumV3,
    compat: type === T.SB_V2 ? sb.readUInt32BE(SB.compat) : 0,
    csum: csumV3 || (incompat & JI.CSUM_V2) !== 0,
    is64: (incompat & JI.BIT64) !== 0,
    seed: crc32c(0xffffffff, sb.subarray(SB.uuid, SB.uuid + UUID_BYTES)),
    phys, read,
  };
}

/** Bytes of one descriptor tag (jbd2's journal_tag_bytes), before any UUID. */
export function tagBytes(log: JournalLog): number {
  return log.csumV3 ? 16 : (log.csum ? 14 : 12) - (log.is64 ? 0 : 4);
}

/** Bytes at the end of descriptor and revoke blocks kept for their checksum. */
export function tailBytes(log: JournalLog): number {
  return log.csum ? 4 : 0;
}

/** A journal block's checksum: crc32c over the block with its checksum field zeroed. */
export function blockCsum(log: JournalLog, b: Buffer, at: number): number {
  const c = Buffer.from(b);
  c.writeUInt32BE(0, at);
  return crc32c(log.seed, c);
}

/** A data block's checksum in its tag: crc32c(seed, sequence, block), 16 bits of it before v3. */
export function dataCsum(log: JournalLog, seq: number, data: Buffer): number {
  const seqBuf = Buffer.alloc(4);
  seqBuf.writeUInt32BE(seq);
  const c = crc32c(crc32c(log.seed, seqBuf), data);
  return log.csumV3 ? c : c & 0xffff;
}

/** The journal superblock with `start` and `sequence` set, checksummed when the journal is. */
export function journalSuper(log: JournalLog, start: number, sequence: number): Buffer {
  const out = Buffer.from(log.sb);
  out.writeUInt32BE(start, SB.start);
  out.writeUInt32BE(sequence >>> 0, SB.sequence);
  if (log.csum) {
    out.writeUInt32BE(0, SB.checksum);
    out.writeUInt32BE(crc32c(0xffffffff, out, 0, 1024), SB.checksum);
  }
  return out;
}
