/**
 * log: one JSON line per request, like nbdkit's log filter but in JSON. Placed outermost it
 * shows what the caller asked for; placed lower in a stack it shows what the filters above
 * turned that into (which is how the tests count inner reads).
 */
import { closeSync, createWriteStream, openSync, type WriteStream } from 'node:fs';
import type { BlockDevice, Extent } from '../block-device.js';
import { DiskError } from '../errors.js';
import { FilterDevice } from './filter-device.js';
import { filterKind } from './filter-kind.js';
import { parseBool } from './options.js';

export type LogOp = 'read' | 'write' | 'flush' | 'trim' | 'extents';

/**
 * One logged request. Offsets and lengths are JSON numbers while they are below 2^53 (every
 * real disk), and decimal strings beyond that, so no value is ever silently rounded.
 * `flush` has neither.
 */
export interface LogEntry {
  /** Requests are numbered from 1 in the order they started. */
  id: number;
  op: LogOp;
  offset?: number | string;
  length?: number | string;
  /** Time from the request to its answer, in milliseconds (3 decimals). */
  ms: number;
  /** The error's message and errno name, when the request failed. */
  error?: string;
  errno?: string;
}

export interface LogOptions {
  /** Append lines to this file (created if missing). */
  file?: string;
  /** With `file`: keep what the file holds instead of truncating it (default false). */
  append?: boolean;
  /** Called with each entry as it is logged. */
  onEntry?: (entry: LogEntry) => void;
}

export class LogFilter extends FilterDevice {
  private seq = 0;
  private readonly stream: WriteStream | undefined;
  private streamError: Error | undefined;

  constructor(
    inner: BlockDevice,
    private readonly opts: LogOptions,
  ) {
    super(inner);
    if (!opts.file && !opts.onEntry) throw new Error('log filter needs a file or an onEntry callback');
    if (opts.file) {
      // Opened now so a bad path fails here, not later as an unhandled stream error.
      let fd: number;
      try {
        fd = openSync(opts.file, opts.append ? 'a' : 'w');
      } catch (e) {
        throw new DiskError(opts.file, `cannot open log file: ${(e as Error).message}`, undefined, (e as NodeJS.ErrnoException).code ?? 'EIO');
      }
      try {
        this.stream = createWriteStream('', { fd });
      } catch (e) {
        closeSync(fd);
        throw e;
      }
      this.stream.on('error', (e) => (this.streamError ??= e));
    }
  }

  override read(offset: bigint, length: number): Promise<Buffer> {
    return this.logged('read', offset, BigInt(length), () => super.read(offset, length));
  }

  override write(offset: bigint, data: Uint8Array): Promise<void> {
    return this.logged('write', offset, BigInt(data.length), () => super.write(offset, data));
  }

  override trim(offset: bigint, length: bigint): Promise<void> {
    return this.logged('trim', offset, length, () => super.trim(offset, length));
  }

  override flush(): Promise<void> {
    return this.logged('flush', undefined, undefined, () => super.flush());
  }

  override extents(offset: bigint, length: bigint): Promise<Extent[]> {
    return this.logged('extents', offset, length, () => super.extents(offset, length));
  }

  private async logged<T>(op: LogOp, offset: bigint | undefined, length: bigint | undefined, call: () => Promise<T>): Promise<T> {
    const entry: LogEntry = { id: ++this.seq, op, ms: 0 };
    if (offset !== undefined) entry.offset = jsonInt(offset);
    if (length !== undefined) entry.length = jsonInt(length);
    const t0 = performance.now();
    try {
      return await call();
    } catch (e) {
      entry.error = (e as Error).message;
      entry.errno = (e as { code?: string }).code ?? 'EIO';
      throw e;
    } finally {
      entry.ms = Math.round((performance.now() - t0) * 1000) / 1000;
      this.emit(entry);
    }
  }

  private emit(entry: LogEntry): void {
    this.opts.onEntry?.(entry);
    this.stream?.write(JSON.stringify(entry) + '\n');
  }

  /** Closes the device below, then finishes writing the log file. */
  override async close(): Promise<void> {
    try {
      await super.close();
    } finally {
      if (this.stream) await new Promise<void>((done) => this.stream!.end(done));
    }
    if (this.streamError) throw new DiskError(this.opts.file ?? this.name, `writing the log failed: ${this.streamError.message}`);
  }
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function jsonInt(v: bigint): number | string {
  return v <= MAX_SAFE ? Number(v) : v.toString();
}

export function log(dev: BlockDevice, opts: LogOptions): LogFilter {
  return new LogFilter(dev, opts);
}

export const logKind = filterKind<LogOptions>('log', { file: (t) => t, append: parseBool }, (dev, opts) => log(dev, opts));
