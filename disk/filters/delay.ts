/**
 * delay: waits a fixed time before passing each request on, like nbdkit's delay filter, to
 * test timeouts (FUSE answers ETIMEDOUT after 15 s) and slow remote sources.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { BlockDevice, Extent } from '../block-device.js';
import { FilterDevice } from './filter-device.js';
import { filterKind } from './filter-kind.js';
import { parseMs } from './options.js';

/** Milliseconds to wait before each kind of request (default 0). */
export interface DelayOptions {
  read?: number;
  write?: number;
  trim?: number;
  flush?: number;
  extents?: number;
}

export class DelayFilter extends FilterDevice {
  constructor(
    inner: BlockDevice,
    readonly delays: DelayOptions,
  ) {
    super(inner);
    for (const [op, ms] of Object.entries(delays)) {
      if (!(typeof ms === 'number' && ms >= 0 && ms <= 3_600_000)) throw new Error(`delay for ${op} must be 0 to 3600000 ms, not ${ms}`);
    }
  }

  protected override async _read(offset: bigint, length: number): Promise<Buffer> {
    await wait(this.delays.read);
    return this.inner.read(offset, length);
  }

  protected override async _write(offset: bigint, data: Uint8Array): Promise<void> {
    await wait(this.delays.write);
    return this.inner.write(offset, data);
  }

  protected override async _trim(offset: bigint, length: bigint): Promise<void> {
    await wait(this.delays.trim);
    return this.inner.trim(offset, length);
  }

  override async flush(): Promise<void> {
    await wait(this.delays.flush);
    return this.inner.flush();
  }

  override async extents(offset: bigint, length: bigint): Promise<Extent[]> {
    await wait(this.delays.extents);
    return this.inner.extents(offset, length);
  }
}

/** Wait at least `ms`: Node timers can fire a fraction of a millisecond early. */
async function wait(ms: number | undefined): Promise<void> {
  if (!ms) return;
  const until = performance.now() + ms;
  for (let left = ms; left > 0; left = until - performance.now()) await sleep(Math.ceil(left));
}

export function delay(dev: BlockDevice, delays: DelayOptions): DelayFilter {
  return new DelayFilter(dev, delays);
}

export const delayKind = filterKind<DelayOptions>(
  'delay',
  { read: parseMs, write: parseMs, trim: parseMs, flush: parseMs, extents: parseMs },
  delay,
);
