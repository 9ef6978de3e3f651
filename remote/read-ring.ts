/**
 * Socket reads into a reused ring instead of a fresh 64 KiB buffer per read. Node allocates
 * a new buffer for every read of a plain socket; at loopback speeds those allocations, their
 * page faults and the garbage collections they force cost more CPU than everything else in a
 * remote copy (about half of it, measured). TLS sockets take the same ring for their decrypted
 * bytes (`tls.connect` honours `onread` when it makes the socket itself, as undici's connector
 * does): HTTPS went from 0.8 to 1.2 GB/s over loopback with it.
 *
 * Reads are up to 256 KiB: a loopback socket holds that much at once at these speeds, and each
 * read is a callback, a push and a parse in undici (64 KiB reads cost a fifth more CPU per GiB).
 *
 * Each connection gets a 2 MiB slab filled front to back and wrapped around, and every read's
 * bytes are pushed into the socket as a view of the slab. A view must not be overwritten while
 * anyone still holds it, and the ones that live on after a read are:
 * - views queued in the socket that undici has not read yet (`readableLength` bytes, the
 *   newest ones);
 * - undici's views of an unfinished header block, which lie in the bytes just before what it
 *   has read (its header limit is 16 KiB; `HEADER_SLACK` allows for separators as well).
 * Body bytes are copied out by our handler while undici parses them (see `exchange.ts`).
 * Refilling slab bytes from one lap earlier overwrites stream bytes at least `SLAB - 2 × READ`
 * old; when that distance does not clear the queued bytes plus the slack, the connection
 * moves to a fresh slab and the old one lives on until its views are dropped.
 */
import type { OnReadOpts, Socket } from 'node:net';
import type { buildConnector } from 'undici';

const SLAB = 2 << 20;
const READ = 256 << 10;
const HEADER_SLACK = 256 << 10;
/**
 * The socket's queue stops reading at this many bytes (a push past it returns false): with one
 * read more that is 1 MiB, which with the slack stays under `SLAB - 2 × READ`.
 */
const READ_QUEUE = 768 << 10;

class ReadRing {
  private slab = Buffer.allocUnsafeSlow(SLAB);
  private at = 0;
  private socket: Socket | undefined;

  readonly onread: OnReadOpts;

  constructor(private readonly counts: RingCounts) {
    const ring = this;
    this.onread = {
      buffer: () => this.next(),
      // Node calls this with the socket as `this`, then asks `buffer()` for the next read's.
      callback(this: Socket, n: number, buf: Uint8Array): boolean {
        ring.socket = this;
        ring.at += n;
        return this.push(buf.subarray(0, n));
      },
    };
  }

  private next(): Buffer {
    if (this.at + READ > SLAB) {
      this.at = 0;
      this.counts.laps++;
    }
    const queued = this.socket?.readableLength ?? 0;
    if (queued + HEADER_SLACK > SLAB - 2 * READ) {
      this.slab = Buffer.allocUnsafeSlow(SLAB);
      this.at = 0;
      this.counts.freshSlabs++;
    }
    return this.slab.subarray(this.at, this.at + READ);
  }
}

export interface RingCounts {
  /** Times a slab was filled and reading started over at its front. */
  laps: number;
  /** Slabs replaced because their bytes might still be held (a test watches for these). */
  freshSlabs: number;
}

/**
 * undici's own connector with a read ring per connection, http: or https: (`build` is
 * undici's `buildConnector`, passed in because undici loads lazily; `base` holds the TLS
 * options).
 */
export function ringConnector(build: typeof buildConnector, base: buildConnector.BuildOptions, counts: RingCounts): buildConnector.connector {
  return (opts, cb) => {
    // highWaterMark reaches net.connect as undici passes its options on (its types omit it).
    const options = { ...base, highWaterMark: READ_QUEUE, onread: new ReadRing(counts).onread };
    build(options)(opts, cb);
  };
}
