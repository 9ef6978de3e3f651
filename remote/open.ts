/**
 * Open a remote file as the stack the layers above share: the HTTP device, an adaptive
 * readahead over it (small reads while a tool inspects, windows doubling to MiBs during
 * sequential copies), and one block cache on top, whose in-flight table makes concurrent
 * reads of one region a single request.
 */
import { readFile } from 'node:fs/promises';
import type { BlockDevice } from '../disk/block-device.js';
import { DiskError } from '../disk/errors.js';
import { CacheFilter } from '../disk/filters/cache.js';
import { ReadaheadFilter } from '../disk/filters/readahead.js';
import { HttpDevice, type HttpOptions } from './http-device.js';
import { readPassword } from './password.js';
import { parseRemoteUrl, redact } from './url.js';

export interface RemoteOptions extends Pick<HttpOptions, 'connections' | 'requestSize' | 'timeout' | 'retry' | 'log' | 'renewIdle' | 'startCookie'> {
  /** User for basic auth when the URL names none (a vpx:// connection's, to renew its session). */
  user?: string;
  /** File holding the password (first line); else GUESTKIT_PASSWORD, else a TTY prompt. */
  passwordFile?: string;
  /** Verify TLS certificates (default true). */
  verify?: boolean;
  /** PEM file of CA certificates to trust. */
  caFile?: string;
  /** A fixed Cookie header, as qemu's `file.cookie`. */
  cookie?: string;
  /** Smallest readahead window (default 64 KiB); it doubles on sequential reads up to `readaheadMax`. */
  readahead?: number;
  /** Largest readahead window (default 8 MiB). */
  readaheadMax?: number;
  /** Block cache size in bytes (default 64 MiB, in 64 KiB blocks). */
  cacheSize?: number;
}

export interface RemoteDisk extends BlockDevice {
  /** The HTTP device at the bottom of the stack (statistics, URL). */
  readonly http: HttpDevice;
}

/** Open `name` (http:// or https://, optionally with a user) read-only. */
export async function openRemote(name: string, opts: RemoteOptions = {}): Promise<RemoteDisk> {
  const parsed = parseRemoteUrl(name);
  const url = parsed.url;
  const user = parsed.user ?? opts.user;
  const http = await HttpDevice.open(url, {
    ...opts,
    user,
    password: () => readPassword(opts, user ?? '', redact(url)),
    ca: opts.caFile === undefined ? undefined : await readCa(opts.caFile),
  });
  const ra = new ReadaheadFilter(http, { min: opts.readahead ?? 64 << 10, max: Math.max(opts.readahead ?? 0, opts.readaheadMax ?? 8 << 20) });
  // Copies read MiBs at a time past the cache: only inspection's small reads are worth keeping.
  return Object.assign(new CacheFilter(ra, { blocksize: 64 << 10, size: opts.cacheSize ?? 64 << 20, bypass: 1 << 20 }), { http });
}

/** A source opener for `disk/open.ts`: remote disks are read-only (write to a qcow2 overlay). */
export function remoteOpener(opts: RemoteOptions): (name: string, writable: boolean) => Promise<BlockDevice> {
  return (name, writable) => {
    if (writable) return Promise.reject(new DiskError(redact(name), 'remote disks are read-only: write to a local qcow2 overlay over them', undefined, 'EROFS'));
    return openRemote(name, opts);
  };
}

/**
 * A resolver for qemu's curl `json:` backing names, as `createOverlay` writes them:
 * `url`, `cookie`, `sslverify` ("off" or false to skip verification), `readahead` (bytes),
 * `timeout` (seconds).
 */
export function jsonResolver(opts: RemoteOptions): (spec: Record<string, unknown>, fromImage: string) => Promise<BlockDevice> {
  return async (spec, fromImage) => {
    const url = spec['url'];
    if (typeof url !== 'string') throw new DiskError(fromImage, 'json: backing name has no "url" string');
    const num = (k: string): number | undefined => {
      const v = spec[k];
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isFinite(n) || n <= 0) throw new DiskError(fromImage, `json: backing "${k}" is not a positive number`);
      return n;
    };
    const sslverify = spec['sslverify'];
    const timeout = num('timeout');
    const readahead = num('readahead');
    return openRemote(url, {
      ...opts,
      cookie: typeof spec['cookie'] === 'string' ? spec['cookie'] : opts.cookie,
      verify: sslverify === 'off' || sslverify === false ? false : opts.verify,
      timeout: timeout === undefined ? opts.timeout : timeout * 1000,
      readahead: readahead === undefined ? opts.readahead : Math.min(Math.max(512, readahead), 1 << 30),
    });
  };
}

/** The qemu `json:` backing name for a remote file: what `createOverlay` writes into a qcow2 header. */
export function jsonBackingName(url: string, o: { cookie?: string; verify?: boolean; readahead?: number; timeout?: number } = {}): string {
  const spec: Record<string, string | number> = { 'file.driver': new URL(url).protocol.replace(':', ''), 'file.url': url };
  if (o.cookie !== undefined) spec['file.cookie'] = o.cookie;
  if (o.verify === false) spec['file.sslverify'] = 'off';
  if (o.readahead !== undefined) spec['file.readahead'] = o.readahead;
  if (o.timeout !== undefined) spec['file.timeout'] = o.timeout;
  return `json:${JSON.stringify(spec)}`;
}

async function readCa(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new Error(`--cacert ${path}: ${(e as NodeJS.ErrnoException).code ?? 'cannot read'}`);
  }
}
