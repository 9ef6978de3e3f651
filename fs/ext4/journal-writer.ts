/**
 * Writing jbd2 transactions, as the kernel's commit.c lays them out: descriptor blocks whose
 * tags (in the format and checksum version the journal superblock names) list the
 * filesystem blocks whose copies follow them, then a commit block with its checksum. The
 * log is empty whenever a transaction starts (each is checkpointed before the next, see
 * transactions.ts), so a transaction always starts at the log's first block and never
 * wraps, and no block logged before can be replayed over a later reuse: no revoke records
 * are ever needed.
 */
import { FsError } from '../errors.js';
import type { BlockIO } from './block-io.js';
import type { FileMap } from './file-map.js';
import { blockCsum, COMMIT, dataCsum, HEADER_BYTES, JBD2_MAGIC, JC_CHECKSUM, journalSuper, openJournalLog, SB, T, TAG, tagBytes, tailBytes, UUID_BYTES, type JournalLog } from './jbd2.js';

export class JournalWriter {
  /** Sequence number of the next transaction. */
  private tid: number;

  private constructor(private readonly log: JournalLog) {
    // After a clean journal the kernel starts one past s_sequence (jbd2_journal_recover).
    this.tid = (log.sb.readUInt32BE(SB.sequence) + 1) >>> 0;
  }

  /** The journal of a filesystem opened for writing; its log must be empty (replayed on open). */
  static async open(io: BlockIO, jmap: FileMap, journalBlocks: number): Promise<JournalWriter> {
    const log = await openJournalLog(io, jmap, journalBlocks);
    if (log.start !== 0) throw new FsError('EIO', `${io.name}: the journal still holds transactions after replay`);
    // The old crc32 commit checksum (journal_checksum without metadata_csum) is not written.
    if (log.compat & JC_CHECKSUM) throw new FsError('EROFS', `${io.name}: the journal uses the v1 commit checksum, which this driver does not write; open read-only`);
    return new JournalWriter(log);
  }

  /** The most filesystem blocks one transaction may hold: descriptors, copies and commit fit the log. */
  get maxBlocks(): number {
    const len = this.log.last - this.log.first;
    return Math.max(0, Math.floor(((len - 1) * this.tagsPerDescriptor()) / (this.tagsPerDescriptor() + 1)) - 1);
  }

  get sequence(): number {
    return this.tid;
  }

  private tagsPerDescriptor(): number {
    const room = this.log.io.blockSize - HEADER_BYTES - tailBytes(this.log) - UUID_BYTES;
    return Math.floor(room / tagBytes(this.log));
  }

  /** The journal superblock saying the log starts at this transaction (written, not flushed). */
  async markStart(): Promise<void> {
    await this.writeSuper(journalSuper(this.log, this.log.first, this.tid));
  }

  /**
   * Log `blocks` (sorted by block number) as the next transaction: descriptors and copies,
   * then, after `flush` made them and everything before them durable, the commit block.
   */
  async commit(blocks: [number, Buffer][], flush: () => Promise<void>): Promise<void> {
    if (blocks.length > this.maxBlocks) throw new FsError('EFBIG', `${this.log.io.name}: a transaction of ${blocks.length} blocks does not fit the journal`);
    const log = this.log;
    const bs = log.io.blockSize;
    const out: Buffer[] = [];
    const perDesc = this.tagsPerDescriptor();
    const tagLen = tagBytes(log);
    for (let i = 0; i < blocks.length; i += perDesc) {
      const group = blocks.slice(i, i + perDesc);
      const desc = this.header(T.DESCRIPTOR);
      out.push(desc);
      let off = HEADER_BYTES;
      group.forEach(([fsBlock, data], k) => {
        let copy = data;
        let flags = k === 0 ? 0 : TAG.SAME_UUID;
        // A block that starts with the journal magic would read as a journal block: escape it.
        if (data.readUInt32BE(0) === JBD2_MAGIC) {
          copy = Buffer.from(data);
          copy.writeUInt32BE(0, 0);
          flags |= TAG.ESCAPE;
        }
        if (k === group.length - 1) flags |= TAG.LAST;
        desc.writeUInt32BE(fsBlock % 2 ** 32, off);
        if (log.csumV3) {
          desc.writeUInt32BE(flags, off + 4);
          desc.writeUInt32BE(Math.floor(fsBlock / 2 ** 32), off + 8);
          desc.writeUInt32BE(dataCsum(log, this.tid, copy), off + 12);
        } else {
          if (log.csum) desc.writeUInt16BE(dataCsum(log, this.tid, copy), off + 4);
          desc.writeUInt16BE(flags, off + 6);
          if (log.is64) desc.writeUInt32BE(Math.floor(fsBlock / 2 ** 32), off + 8);
        }
        off += tagLen;
        if (k === 0) {
          log.sb.copy(desc, off, SB.uuid, SB.uuid + UUID_BYTES);
          off += UUID_BYTES;
        }
        out.push(copy);
      });
      if (log.csum) desc.writeUInt32BE(blockCsum(log, desc, bs - 4), bs - 4);
    }
    await this.writeLog(log.first, out);
    await flush();
    const commit = this.header(T.COMMIT);
    const ms = Date.now();
    commit.writeBigUInt64BE(BigInt(Math.floor(ms / 1000)), COMMIT.sec);
    commit.writeUInt32BE((ms % 1000) * 1e6, COMMIT.nsec);
    if (log.csum) commit.writeUInt32BE(blockCsum(log, commit, COMMIT.checksum), COMMIT.checksum);
    await this.writeLog(log.first + out.length, [commit]);
  }

  /** Once the transaction is checkpointed: an empty log, the sequence moved past it. */
  async markEmpty(): Promise<void> {
    this.tid = (this.tid + 1) >>> 0;
    await this.writeSuper(journalSuper(this.log, 0, this.tid));
  }

  private header(type: number): Buffer {
    const b = Buffer.alloc(this.log.io.blockSize);
    b.writeUInt32BE(JBD2_MAGIC, 0);
    b.writeUInt32BE(type, 4);
    b.writeUInt32BE(this.tid, 8);
    return b;
  }

  private async writeSuper(sb: Buffer): Promise<void> {
    sb.copy(this.log.sb);
    await this.log.io.writeData(this.log.sbBlock, sb);
  }

  /** Log blocks from `at` on, one device write per physically contiguous run. */
  private async writeLog(at: number, bufs: Buffer[]): Promise<void> {
    for (let i = 0; i < bufs.length;) {
      const p = await this.log.phys(at + i);
      let j = i + 1;
      while (j < bufs.length && (await this.log.phys(at + j)) === p + (j - i)) j++;
      await this.log.io.writeData(p, Buffer.concat(bufs.slice(i, j)));
      i = j;
    }
  }
}
