/**
 * How the writer's metadata reaches the disk. Without a journal, every block is written in
 * place as it changes (ordered: data, bitmaps, inode, entry). With one, as the kernel's jbd2
 * in data=ordered mode: the changed metadata blocks of a batch of operations wait in memory
 * (`BlockIO.running`) while file data goes straight to its blocks; a commit then sets
 * needs_recovery, logs the batch as one transaction, flushes (data and log durable before the
 * commit block), writes the commit block, and checkpoints at once: the blocks in place, a
 * flush, an empty log and needs_recovery cleared. A crash before the commit block is durable
 * loses the batch and nothing else; after it, a replay (e2fsck, the kernel, our open) redoes
 * it whole.
 *
 * A batch ends at fsync and close, and between operations once it holds a quarter of the log
 * or is older than the kernel's 5 s commit interval; an idle mount commits it when it comes
 * due, on a timer (the lock's, `locked.ts`, so it never runs beside an operation). Blocks
 * freed in a batch are not reused before it commits (`Allocator.pinFrees`).
 */
import type { BlockIO } from './block-io.js';
import type { Allocator } from './alloc.js';
import { INCOMPAT, SUPERBLOCK_OFFSET } from './constants.js';
import { crc32c } from './crc32c.js';
import type { JournalWriter } from './journal-writer.js';
import type { Superblock } from './superblock.js';

const COMMIT_INTERVAL_MS = 5000;
/** Most metadata blocks a batch keeps in memory (32 MiB of 4 KiB blocks). */
const MAX_BATCH_BLOCKS = 8192;
/** s_feature_incompat and s_checksum in the superblock. */
const SB_INCOMPAT = 0x60;
const SB_CHECKSUM = 0x3fc;
const SB_BYTES = 1024;

export class Transactions {
  /** Test hook: runs after a commit, before its checkpoint (a test throws there to leave a log to replay). */
  afterCommit: (() => Promise<void>) | null = null;
  private openedAt = 0;

  constructor(
    private readonly io: BlockIO,
    private readonly sb: Superblock,
    private readonly alloc: Allocator,
    readonly journal: JournalWriter | null,
    private readonly warn: (m: string) => void,
  ) {
    if (journal) {
      io.running = new Map();
      alloc.pinFrees();
    }
  }

  /** The superblock as it is in memory: into the running transaction, or in place without a journal. */
  async putSuper(): Promise<void> {
    if (!this.io.running) return this.writeSuperInPlace();
    const block = Math.floor(SUPERBLOCK_OFFSET / this.io.blockSize);
    const buf = Buffer.from(await this.io.block(block, 'superblock'));
    this.sb.encode().copy(buf, SUPERBLOCK_OFFSET - block * this.io.blockSize);
    await this.io.write(block, buf);
  }

  /**
   * Between operations: commit a batch that is big or old enough. A batch left waiting gives
   * the milliseconds until it is due, so an idle mount commits it then (through the lock's
   * timer, `locked.ts`) instead of holding it until the next operation.
   */
  async settle(): Promise<number | undefined> {
    const running = this.io.running;
    if (!running?.size || !this.journal) return undefined;
    if (this.openedAt === 0) this.openedAt = Date.now();
    const age = Date.now() - this.openedAt;
    if (running.size < Math.min(this.journal.maxBlocks / 4, MAX_BATCH_BLOCKS) && age < COMMIT_INTERVAL_MS) return COMMIT_INTERVAL_MS - age;
    await this.commit();
    return undefined;
  }

  /** Make everything written so far durable: commit and checkpoint the batch, or flush. */
  async commit(): Promise<void> {
    const running = this.io.running;
    const dev = this.io.dev;
    if (!running?.size || !this.journal) return dev.flush();
    this.sb.setIncompat(INCOMPAT.RECOVER, true);
    await this.putSuper();
    const blocks = [...running].sort((a, b) => a[0] - b[0]);
    if (blocks.length > this.journal.maxBlocks) {
      // One operation changed more blocks than the log holds: written in place, unjournaled.
      this.warn(`${dev.name}: ${blocks.length} metadata blocks do not fit the journal; written in place without it`);
    } else {
      // needs_recovery on disk, with no other change, before the log can hold anything.
      await this.setDiskRecover();
      await this.journal.markStart();
      await this.journal.commit(blocks, () => dev.flush());
      await dev.flush();
      await this.afterCommit?.();
    }
    await this.checkpoint(blocks);
    await dev.flush();
    running.clear();
    this.alloc.unpin();
    this.openedAt = 0;
    await this.journal.markEmpty();
    this.sb.setIncompat(INCOMPAT.RECOVER, false);
    await this.writeSuperInPlace();
    await dev.flush();
  }

  /** Write a transaction's blocks where they belong, one device write per contiguous run. */
  private async checkpoint(blocks: [number, Buffer][]): Promise<void> {
    for (let i = 0; i < blocks.length;) {
      let j = i + 1;
      while (j < blocks.length && blocks[j]![0] === blocks[i]![0] + (j - i)) j++;
      await this.io.writeData(blocks[i]![0], Buffer.concat(blocks.slice(i, j).map((b) => b[1])));
      i = j;
    }
  }

  async writeSuperInPlace(): Promise<void> {
    await this.io.dev.write(BigInt(SUPERBLOCK_OFFSET), this.sb.encode());
    this.io.forget(Math.floor(SUPERBLOCK_OFFSET / this.io.blockSize));
  }

  /** Set needs_recovery in the superblock on disk, leaving the rest as the disk has it. */
  private async setDiskRecover(): Promise<void> {
    const raw = await this.io.dev.read(BigInt(SUPERBLOCK_OFFSET), SB_BYTES);
    raw.writeUInt32LE((raw.readUInt32LE(SB_INCOMPAT) | INCOMPAT.RECOVER) >>> 0, SB_INCOMPAT);
    if (this.sb.metadataCsum) raw.writeUInt32LE(crc32c(0xffffffff, raw, 0, SB_CHECKSUM), SB_CHECKSUM);
    await this.io.dev.write(BigInt(SUPERBLOCK_OFFSET), raw);
  }
}
