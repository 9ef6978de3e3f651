/**
 * jbd2's revoke table (kernel fs/jbd2/revoke.c): for each revoked block, the newest committed
 * transaction that revoked it. A journaled copy of the block from that transaction or an
 * earlier one must not be replayed; a copy from a later transaction must. Transaction ids are
 * 32-bit and wrap, so they are compared as jbd2's tid_gt does (the signed difference).
 */

/** x is newer than y, modulo 2^32. */
export function tidGt(x: number, y: number): boolean {
  return ((x - y) | 0) > 0;
}

export class RevokeTable {
  private readonly newest = new Map<number, number>();

  /** Record that committed transaction `seq` revoked `block` (jbd2_journal_set_revoke). */
  set(block: number, seq: number): void {
    const had = this.newest.get(block);
    if (had === undefined || tidGt(seq, had)) this.newest.set(block, seq);
  }

  /** Whether a copy of `block` logged in transaction `seq` is revoked (jbd2_journal_test_revoke). */
  cancels(block: number, seq: number): boolean {
    const had = this.newest.get(block);
    return had !== undefined && !tidGt(seq, had);
  }
}
