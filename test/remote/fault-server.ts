/**
 * An HTTP server of our own for what nginx cannot be made to do: resets mid-body, 503
 * bursts, stalled bodies, ignoring Range, a file that changes size, a wrong Content-Range.
 * The content is a function of (offset, length), so a 7 EB object costs nothing.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Faults {
  /** The first N GETs send half their body, then the connection is reset. */
  resetMidBody?: number;
  /** The first N requests (HEAD included) answer 503. */
  status503?: number;
  /** The first N GETs send headers, then stall for `stallMs` before the body. */
  stall?: number;
  stallMs?: number;
  /** GETs answer 200 with the whole file (ESXi's behaviour). */
  ignoreRange?: boolean;
  /** HEAD leaves out Accept-Ranges. */
  noAcceptRanges?: boolean;
  /** After N GETs the file is reported one MiB bigger. */
  growAfter?: number;
  /** Content-Range names a range one byte later than the one sent. */
  shiftContentRange?: boolean;
  /** Added to every answer, in ms (latency for benchmarks). */
  delayMs?: number;
  /** Rewrites every answer before it is sent (the HTTP fuzz target damages answers here). */
  mangle?: (a: Answer, method: string) => Answer;
  /** While true, every request is refused by closing its connection (a server gone away). */
  down?: boolean;
}

/** An answer as the server is about to send it; a body cut short ends with a reset. */
export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** Send only this many bytes of the body, then reset the connection. */
  cut?: number;
}

export interface FaultServer {
  url: string;
  /** Requests by method, the Range headers of GETs in order, and requests refused while `down`. */
  seen: { head: number; get: number; ranges: string[]; refused: number };
  faults: Faults;
  stop(): Promise<void>;
}

export type Content = (offset: bigint, length: number) => Buffer;

/** Content from a buffer. */
export const fromBuffer =
  (b: Buffer): Content =>
  (o, n) =>
    b.subarray(Number(o), Number(o) + n);

export async function startFaultServer(size: bigint, content: Content, faults: Faults = {}): Promise<FaultServer> {
  const seen = { head: 0, get: 0, ranges: [] as string[], refused: 0 };
  const server = createServer((req, res) => {
    const go = () => answer(req, res, size, content, faults, seen);
    if (faults.delayMs) setTimeout(go, faults.delayMs);
    else go();
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/disk.img`,
    seen,
    faults,
    stop: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

function answer(req: IncomingMessage, res: ServerResponse, size0: bigint, content: Content, f: Faults, seen: FaultServer['seen']): void {
  if (f.down) {
    seen.refused++;
    res.socket?.resetAndDestroy();
    return;
  }
  if (f.mangle) {
    mangled(req, res, size0, content, f.mangle);
    return;
  }
  const n = req.method === 'HEAD' ? seen.head++ : seen.get++;
  const size = f.growAfter !== undefined && seen.get > f.growAfter ? size0 + (1n << 20n) : size0;
  if (f.status503 && f.status503 > 0) {
    f.status503--;
    res.writeHead(503, { 'retry-after': '0' }).end('out of sessions');
    return;
  }
  if (req.method === 'HEAD') {
    res.writeHead(200, { 'content-length': String(size), ...(f.noAcceptRanges ? {} : { 'accept-ranges': 'bytes' }) }).end();
    return;
  }
  seen.ranges.push(req.headers.range ?? '');
  const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
  if (f.ignoreRange || !m) {
    const whole = size > 1n << 20n ? 1 << 20 : Number(size);
    res.writeHead(200, { 'content-length': String(size) });
    // A client that took the 200 would read the whole file; one MiB of it is enough here.
    res.write(content(0n, whole), () => res.destroy());
    return;
  }
  const first = BigInt(m[1]!);
  const last = BigInt(m[2]!);
  const length = Number(last - first + 1n);
  const shift = f.shiftContentRange ? 1n : 0n;
  res.writeHead(206, { 'content-length': String(length), 'content-range': `bytes ${first + shift}-${last + shift}/${size}` });
  const body = content(first, length);
  if (f.resetMidBody && f.resetMidBody > 0 && n >= 0) {
    f.resetMidBody--;
    res.write(body.subarray(0, length >> 1), () => res.socket?.resetAndDestroy());
    return;
  }
  if (f.stall && f.stall > 0) {
    f.stall--;
    res.flushHeaders();
    setTimeout(() => res.end(body), f.stallMs ?? 1000).unref();
    return;
  }
  res.end(body);
}

/** A plain answer (HEAD, or a 206 for the Range asked), rewritten by `mangle`, then sent as it says. */
function mangled(req: IncomingMessage, res: ServerResponse, size: bigint, content: Content, mangle: NonNullable<Faults['mangle']>): void {
  const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
  let a: Answer;
  if (req.method === 'HEAD') a = { status: 200, headers: { 'content-length': String(size), 'accept-ranges': 'bytes' }, body: Buffer.alloc(0) };
  else if (!m) a = { status: 416, headers: {}, body: Buffer.alloc(0) };
  else {
    const first = BigInt(m[1]!);
    const length = Number(BigInt(m[2]!) - first + 1n);
    a = { status: 206, headers: { 'content-range': `bytes ${m[1]}-${m[2]}/${size}` }, body: content(first, length) };
  }
  a = mangle(a, req.method ?? 'GET');
  if (req.method !== 'HEAD' && a.headers['content-length'] === undefined && a.cut === undefined) a.headers['content-length'] = String(a.body.length);
  res.writeHead(a.status, a.headers);
  if (req.method === 'HEAD') res.end();
  else if (a.cut !== undefined) res.write(a.body.subarray(0, a.cut), () => res.socket?.resetAndDestroy());
  else res.end(a.body);
}
