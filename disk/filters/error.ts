/**
 * error: makes requests fail on purpose, like nbdkit's error filter, to test how callers
 * handle errors. Chosen kinds of request fail with one errno at a rate (drawn from a seedable
 * PRNG, so tests repeat) and, if a trigger file is named, only while that file exists
 * (checked on every request, like nbdkit's error-file).
 */
import { access } from 'node:fs/promises';
import { constants } from 'node:os';
import type { BlockDevice, Extent } from '../block-device.js';
import { DiskError } from '../errors.js';
import { FilterDevice } from './filter-device.js';
import { filterKind } from './filter-kind.js';
import { checkRate, parseInteger, parseRate } from './options.js';
import { prng } from './prng.js';

export const ERROR_OPS = ['read', 'write', 'trim', 'flush', 'extents'] as const;
export type ErrorOp = (typeof ERROR_OPS)[number];

export interface ErrorOptions {
  /** POSIX errno name the failures carry (default EIO). */
  error?: string;
  /** Fraction of requests that fail, 0..1 (default 1 with `file`, else 0). */
  rate?: number;
  /** Fail only while this file exists. */
  file?: string;
  /** Which requests may fail (default read and write). */
  ops?: ErrorOp[];
  /** PRNG seed, for a repeatable pattern of failures (default: random). */
  seed?: number;
  /** Text of the failures (default "injected error"). */
  message?: string;
}

export class ErrorFilter extends FilterDevice {
  readonly errno: string;
  readonly rate: number;
  private readonly ops: ReadonlySet<ErrorOp>;
  private readonly random: () => number;

  constructor(
    inner: BlockDevice,
    private readonly opts: ErrorOptions = {},
  ) {
    super(inner);
    this.errno = opts.error ?? 'EIO';
    if (!(this.errno in constants.errno)) throw new Error(`"${this.errno}" is not an errno name (like EIO, ENOSPC, EPERM)`);
    this.rate = checkRate(opts.rate ?? (opts.file ? 1 : 0));
    this.ops = new Set(opts.ops ?? ['read', 'write']);
    for (const op of this.ops) if (!ERROR_OPS.includes(op)) throw new Error(`"${op}" is not one of ${ERROR_OPS.join(', ')}`);
    this.random = prng(opts.seed ?? Math.floor(Math.random() * 2 ** 32));
  }

  /** Throws the injected error when this request is chosen to fail. */
  private async inject(op: ErrorOp, offset: bigint | undefined, length: bigint | undefined): Promise<void> {
    if (!this.ops.has(op) || this.rate === 0) return;
    if (this.opts.file && !(await exists(this.opts.file))) return;
    if (this.rate < 1 && this.random() >= this.rate) return;
    const what = length === undefined ? op : `${op} of ${length} bytes`;
    throw new DiskError(this.name, `${this.opts.message ?? 'injected error'} (${this.errno}) on ${what}`, offset, this.errno);
  }

  protected override async _read(offset: bigint, length: number): Promise<Buffer> {
    await this.inject('read', offset, BigInt(length));
    return this.inner.read(offset, length);
  }

  protected override async _write(offset: bigint, data: Uint8Array): Promise<void> {
    await this.inject('write', offset, BigInt(data.length));
    return this.inner.write(offset, data);
  }

  protected override async _trim(offset: bigint, length: bigint): Promise<void> {
    await this.inject('trim', offset, length);
    return this.inner.trim(offset, length);
  }

  override async flush(): Promise<void> {
    await this.inject('flush', undefined, undefined);
    return this.inner.flush();
  }

  override async extents(offset: bigint, length: bigint): Promise<Extent[]> {
    await this.inject('extents', offset, length);
    return this.inner.extents(offset, length);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

export function error(dev: BlockDevice, opts: ErrorOptions = {}): ErrorFilter {
  return new ErrorFilter(dev, opts);
}

export const errorKind = filterKind<ErrorOptions>(
  'error',
  {
    error: (t) => t.toUpperCase(),
    rate: parseRate,
    file: (t) => t,
    ops: (t) => t.split('+').map((op) => op.trim()) as ErrorOp[],
    seed: parseInteger,
    message: (t) => t,
  },
  error,
);
