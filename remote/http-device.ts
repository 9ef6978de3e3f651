/**
 * A file on an HTTP(S) server as a read-only BlockDevice: HEAD once for the size, then Range
 * GETs of at most `requestSize` bytes over a keep-alive undici Pool, at most `connections`
 * in flight (p-limit). Every response body is read or discarded, so connections go back to
 * the pool. A server that ignores Range, a wrong Content-Range or a file that changes size is
 * an error, never silent bad data. undici, tough-cookie and p-limit load only when a remote
 * disk is opened.
 */
import type { Pool } from 'undici';
import { BaseDevice } from '../disk/block-device.js';
import { allSettled } from '../disk/settle.js';
import { DiskError } from '../disk/errors.js';
import { type Answer, exchange, type Headers } from './exchange.js';
import { classifyNetworkError, defaultRetry, isTransientStatus, type RetryOutcome, type RetryPolicy, TransientError, withRetry } from './retry.js';
import { type RingCounts, ringConnector } from './read-ring.js';
import { Session, type SessionOptions } from './session.js';
import { redact } from './url.js';

export interface HttpOptions extends SessionOptions {
  /** Verify the server's certificate (default true). */
  verify?: boolean;
  /** Extra CA certificates (PEM) to trust, for self-signed vCenters. */
  ca?: string | Buffer;
  /** Connections (and requests in flight) to the server (default 4). */
  connections?: number;
  /** Largest single Range GET in bytes (default 2 MiB). */
  requestSize?: number;
  /** Milliseconds to wait for headers, and between body chunks (default 30 s). */
  timeout?: number;
  retry?: Partial<RetryPolicy>;
  /** Request trace (`-v`): method, URL without credentials, range, status. */
  log?: (line: string) => void;
}

export interface HttpStats {
  /** Requests sent, retries and 401 renewals included. */
  requests: number;
  /** Attempts that failed transiently and were tried again. */
  retries: number;
  /** Sessions renewed after a 401. */
  renewals: number;
}

type Limit = <T>(fn: () => Promise<T>) => Promise<T>;

const RANGE_HINT =
  'the server ignores Range requests (ESXi hosts\' /folder endpoint does): open the disk through vCenter instead, or copy the file first (curl -o) and open the copy';

export class HttpDevice extends BaseDevice {
  readonly name: string;
  size = 0n;
  readonly stats: HttpStats = { requests: 0, retries: 0, renewals: 0 };
  private readonly requestSize: number;
  private readonly timeout: number;
  private readonly retry: RetryPolicy;

  private constructor(
    readonly url: URL,
    private readonly pool: Pool,
    private readonly limit: Limit,
    private readonly session: Session,
    private readonly opts: HttpOptions,
    /** Socket reads into the connections' read rings. */
    readonly rings: RingCounts,
  ) {
    super();
    this.name = redact(url);
    this.requestSize = opts.requestSize ?? 2 << 20;
    this.timeout = opts.timeout ?? 30_000;
    this.retry = { ...defaultRetry, ...opts.retry };
    if (!(this.requestSize >= 512 && this.requestSize <= 1 << 30)) throw new DiskError(this.name, `request size ${this.requestSize} must be from 512 bytes to 1 GiB`);
  }

  static async open(url: URL, opts: HttpOptions = {}): Promise<HttpDevice> {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new DiskError(redact(url), `not an http(s) URL`);
    const [{ Pool, buildConnector }, { CookieJar }, { default: pLimit }] = await Promise.all([import('undici'), import('tough-cookie'), import('p-limit')]);
    const connections = opts.connections ?? 4;
    // TLS options: an http: connection ignores them.
    const tls = { rejectUnauthorized: opts.verify ?? true, ...(opts.ca ? { ca: opts.ca } : {}) };
    const rings: RingCounts = { laps: 0, freshSlabs: 0 };
    const pool = new Pool(url.origin, {
      connections,
      keepAliveTimeout: 30_000,
      connect: ringConnector(buildConnector, tls, rings),
    });
    const dev = new HttpDevice(url, pool, pLimit(connections), new Session(new CookieJar(), opts), opts, rings);
    try {
      await dev.head();
    } catch (e) {
      await pool.destroy();
      throw e;
    }
    return dev;
  }

  /** HEAD: the size from Content-Length, and byte ranges must be served. */
  private async head(): Promise<void> {
    let attempt = 0;
    const res = await withRetry(
      this.retry,
      async () => {
        if (attempt++ > 0) this.stats.retries++;
        const r = await this.send('HEAD');
        if (isTransientStatus(r.status)) throw new TransientError(`HTTP ${r.status}`, r.status);
        return r;
      },
      (o) => this.failure('HEAD', o),
    );
    if (res.status !== 200) throw this.statusError('HEAD', res.status);
    const len = header(res.headers, 'content-length');
    if (len === undefined || !/^\d+$/.test(len)) throw new DiskError(this.name, 'HEAD gave no Content-Length: the size of the file is unknown');
    this.size = BigInt(len);
    if (!/\bbytes\b/i.test(header(res.headers, 'accept-ranges') ?? '')) throw new DiskError(this.name, `no "Accept-Ranges: bytes" in the HEAD answer: ${RANGE_HINT}`, undefined, 'ENOTSUP');
  }

  protected async _read(offset: bigint, length: number): Promise<Buffer> {
    const out = Buffer.allocUnsafe(length);
    await this.fill(offset, out);
    return out;
  }

  protected override _readInto(offset: bigint, target: Buffer): Promise<void> {
    return this.fill(offset, target);
  }

  /** Range GETs of at most `requestSize` bytes into `out`, in parallel up to the connection limit. */
  private async fill(offset: bigint, out: Buffer): Promise<void> {
    const parts: Promise<void>[] = [];
    for (let at = 0; at < out.length; at += this.requestSize) {
      const target = out.subarray(at, Math.min(out.length, at + this.requestSize));
      const start = offset + BigInt(at);
      parts.push(this.limit(() => this.getRange(start, target)));
    }
    // Every part settles before a failure is reported: the caller may reuse `out` then.
    await allSettled(parts);
  }

  /** One Range GET into `target`, retried as the policy allows. */
  private getRange(offset: bigint, target: Buffer): Promise<void> {
    const last = offset + BigInt(target.length) - 1n;
    const what = `read of bytes ${offset}-${last}`;
    let attempt = 0;
    return withRetry(
      this.retry,
      async () => {
        if (attempt++ > 0) this.stats.retries++;
        const res = await this.send('GET', `bytes=${offset}-${last}`, target, (status, headers) => {
          if (status === 200) throw new DiskError(this.name, `${what}: answered 200 with the whole file: ${RANGE_HINT}`, offset, 'ENOTSUP');
          if (status !== 206) return false;
          this.checkContentRange(header(headers, 'content-range'), offset, last);
          return true;
        });
        if (res.status === 416) throw new DiskError(this.name, `${what}: answered 416 (range not satisfiable): the file is no longer ${this.size} bytes long`, offset);
        if (isTransientStatus(res.status)) throw new TransientError(`HTTP ${res.status}`, res.status);
        if (res.status !== 206) throw this.statusError(what, res.status);
        // A short body is a reset mid-body, worth another try.
        if (res.received !== target.length) throw new TransientError(`body ended after ${res.received} of ${target.length} bytes`);
      },
      (o) => this.failure(what, o, offset),
    );
  }

  private checkContentRange(value: string | undefined, first: bigint, last: bigint): void {
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(value ?? '');
    if (!m) throw new DiskError(this.name, `bytes ${first}-${last}: bad Content-Range "${value ?? ''}" in a 206 answer`, first);
    if (m[3] !== '*' && BigInt(m[3]!) !== this.size) {
      throw new DiskError(this.name, `the file changed size from ${this.size} to ${m[3]} bytes while being read`, first);
    }
    if (BigInt(m[1]!) !== first || BigInt(m[2]!) !== last) {
      throw new DiskError(this.name, `asked for bytes ${first}-${last}, the server sent Content-Range "${value}"`, first);
    }
  }

  /**
   * Send one request with the session's credentials, the body going into `target` when
   * `accept` says so (see `exchange`); a 401 renews the session once.
   */
  private async send(method: 'HEAD' | 'GET', range?: string, target?: Buffer, accept: (status: number, headers: Headers) => boolean = () => false): Promise<Answer> {
    const href = this.url.href;
    const what = `${method} ${this.name}${range ? ` ${range}` : ''}`;
    for (let renewed = false; ; renewed = true) {
      const headers = await this.session.headers(href);
      if (range) headers['range'] = range;
      this.stats.requests++;
      let res: Answer;
      try {
        res = await exchange(
          this.pool,
          { path: this.url.pathname + this.url.search, method, headers, headersTimeout: this.timeout, bodyTimeout: this.timeout },
          {
            target,
            // Cookies are kept before the body is judged, so a refused body still renews the session.
            accept: (status, h) => status !== 401 && accept(status, h),
            tooLong: (n) => new DiskError(this.name, `${method}${range ? ` ${range}` : ''}: the server sent more than the ${n} bytes asked for`),
            networkError: (e) => this.connectError(method, e),
          },
        );
      } catch (e) {
        this.opts.log?.(`${what} -> ${(e as Error).message}`);
        throw e;
      }
      this.opts.log?.(`${what} -> ${res.status}`);
      await this.session.update(href, res.headers['set-cookie']);
      if (res.status === 401 && !renewed && this.session.canAuthenticate) {
        this.stats.renewals++;
        await this.session.renew();
        continue;
      }
      return res;
    }
  }

  /** Transient network errors are retried; others (TLS, DNS) are named with the URL at once. */
  private connectError(method: string, e: unknown): Error {
    const err = classifyNetworkError(e);
    if (err instanceof TransientError) return err;
    const tls = /certificate|self.signed|unable to verify/i.test(err.message);
    return new DiskError(this.name, `${method}: ${err.message}${tls ? ' (give the CA with --cacert FILE, or --no-verify for a self-signed server)' : ''}`, undefined, tls ? 'EACCES' : 'EIO');
  }

  private statusError(what: string, status: number): DiskError {
    const code = status === 401 || status === 403 ? 'EACCES' : status === 404 ? 'ENOENT' : 'EIO';
    const hint = status === 401 ? (this.session.canAuthenticate ? ': the user name or password was refused' : ': give a user in the URL (https://USER@host/...) and --password-file') : '';
    return new DiskError(this.name, `${what}: HTTP ${status}${hint}`, undefined, code);
  }

  private failure(what: string, o: RetryOutcome, offset?: bigint): DiskError {
    const last = o.last instanceof TransientError && o.last.status ? `HTTP ${o.last.status}` : o.last.message;
    return new DiskError(this.name, `${what} failed after ${o.attempts} attempts in ${(o.elapsed / 1000).toFixed(1)} s; last: ${last}`, offset);
  }

  /** The session's Cookie header now: what a qemu `json:` backing name needs to read this file. */
  cookie(): Promise<string> {
    return this.session.cookie(this.url.href);
  }

  override async close(): Promise<void> {
    await this.pool.close();
  }
}

function header(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}
