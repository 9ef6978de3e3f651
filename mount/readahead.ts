/**
 * Sequential read-ahead per open file. The kernel asks FUSE for at most 128 KiB at a time
 * and keeps only one or two such requests in flight (its read-ahead window is 128 KiB, cat's
 * fadvise SEQUENTIAL doubles it), so each request's round trip through the filesystem stack
 * (lock, extent lookup, a thread-pool pread into a fresh buffer, a copy) is paid in full
 * while the reader waits. A file read front to back is fetched here in 1 MiB chunks a few
 * chunks ahead, so most requests are served from memory at once, and the thread-pool hop is
 * paid once per MiB instead of once per 128 KiB.
 *
 * Any change made through the mount (write, truncate) bumps the pool's generation, which
 * drops every chunk fetched before it: nothing stale is ever served.
 */
import type { Filesystem } from '../fs/filesystem.js';

const CHUNK = 1 << 20;
/** Chunks kept ahead of the one being read. */
const AHEAD = 3;
/** A read this close to where the last one ended continues it. */
const NEAR = 512 << 10;
/** Bytes held by all open files together; past it, reads go straight through. */
const BUDGET = 64 << 20;

interface Chunk {
  pos: number;
  /** Resolved data (shorter than CHUNK at the end of the file), or undefined while fetching. */
  data?: Buffer;
  fetching?: Promise<void>;
  /** Dropped while fetching: its data is not kept. */
  dropped?: boolean;
}

/** What every open file's read-ahead shares: the memory budget and the data generation. */
export class ReadaheadPool {
  generation = 0;
  held = 0;

  /** Something changed file data: every chunk fetched so far may be stale. */
  changed(): void {
    this.generation++;
  }
}

export class FileReadahead {
  private chunks: Chunk[] = [];
  private lastEnd = -1;
  private generation: number;

  constructor(
    private readonly fs: Filesystem,
    private readonly ino: number,
    private readonly pool: ReadaheadPool,
  ) {
    this.generation = pool.generation;
  }

  /**
   * Fill `buf[0, len)` from file offset `pos`: a number when the bytes were already in
   * memory (the caller answers at once), else a promise of it.
   */
  read(buf: Buffer, len: number, pos: number): number | Promise<number> {
    if (this.generation !== this.pool.generation) {
      this.drop();
      this.generation = this.pool.generation;
    }
    // The kernel sends a few reads at once and they may arrive out of order: near the last
    // one counts as sequential.
    const sequential = Math.abs(pos - this.lastEnd) <= NEAR;
    this.lastEnd = pos + len;
    const n = this.copyOut(buf, len, pos);
    if (n !== undefined) {
      this.fill(pos + n);
      return n;
    }
    if (!this.chunks.some((c) => c.pos <= pos && pos < c.pos + CHUNK)) {
      // A straggler just behind the chunks: read it alone and keep them.
      const first = this.chunks[0];
      if (first && pos < first.pos && first.pos - pos <= NEAR) return this.direct(buf, len, pos);
      this.drop();
      if (!sequential) return this.direct(buf, len, pos);
      this.fill(pos, pos);
    }
    // Wait for the chunks the request needs; if they failed, a direct read reports why.
    const waits = this.chunks.filter((c) => c.pos < pos + len && !c.data).map((c) => c.fetching);
    if (!waits.length) return this.direct(buf, len, pos);
    return Promise.all(waits).then(() => this.copyOut(buf, len, pos) ?? this.direct(buf, len, pos));
  }

  /** Release what this file holds (on close). */
  drop(): void {
    this.discard(0);
  }

  /** Forget chunks from index `i` on, giving back their budget (fetches still running give theirs back when they end). */
  private discard(i: number): void {
    for (const c of this.chunks.splice(i)) {
      if (c.data) this.pool.held -= CHUNK;
      else c.dropped = true;
    }
  }

  /** Copy from resolved chunks when they hold the whole request (or reach the end of file). */
  private copyOut(buf: Buffer, len: number, pos: number): number | undefined {
    let done = 0;
    let eof = false;
    for (const c of this.chunks) {
      const at = pos + done;
      if (at < c.pos) return undefined;
      if (at >= c.pos + CHUNK) continue;
      if (!c.data) return undefined;
      if (at - c.pos < c.data.length) done += c.data.copy(buf, done, at - c.pos, Math.min(c.data.length, at - c.pos + len - done));
      eof = c.data.length < CHUNK;
      if (done === len || eof) break;
    }
    // A short answer means end of file to the kernel: only give one there.
    if (done < len && !eof) return undefined;
    // Chunks wholly behind the reader are done with (kept a little longer for stragglers).
    while (this.chunks.length && this.chunks[0]!.data && this.chunks[0]!.pos + CHUNK + NEAR <= pos && this.chunks[0]!.data!.length === CHUNK) {
      this.chunks.shift();
      this.pool.held -= CHUNK;
    }
    return done;
  }

  /** Start fetching chunks so that AHEAD of them lie beyond `reader`; the first at `from`. */
  private fill(reader: number, from?: number): void {
    const last = this.chunks.at(-1);
    if (last?.data && last.data.length < CHUNK) return;
    let next = from ?? (last ? last.pos + CHUNK : undefined);
    if (next === undefined) return;
    while (next < reader + (AHEAD + 1) * CHUNK && this.pool.held + CHUNK <= BUDGET) {
      const c: Chunk = { pos: next };
      this.pool.held += CHUNK;
      const generation = this.generation;
      c.fetching = this.fs.read(this.ino, next, CHUNK).then(
        (data) => {
          if (c.dropped || generation !== this.pool.generation) return;
          c.data = data;
        },
        () => undefined,
      ).finally(() => {
        c.fetching = undefined;
        // A failed, dropped or stale fetch gives its budget back and leaves the list.
        if (!c.data) {
          this.pool.held -= CHUNK;
          const i = this.chunks.indexOf(c);
          if (i >= 0) this.discard(i);
        }
      });
      this.chunks.push(c);
      next += CHUNK;
    }
  }

  private async direct(buf: Buffer, len: number, pos: number): Promise<number> {
    const data = await this.fs.read(this.ino, pos, len);
    return data.copy(buf, 0, 0, Math.min(len, data.length));
  }
}
