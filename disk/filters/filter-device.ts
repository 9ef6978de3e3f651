/**
 * The base of every filter, in the manner of nbdkit's `nbdkit-filter.h`: a BlockDevice that
 * wraps another and forwards every call to it unchanged, so a filter overrides only the one
 * behaviour it changes. It is a window over the whole of the device it wraps (the forwarding
 * lives in `disk/window.ts`), except that a filter owns that device: closing the stack closes
 * every layer, and `readInto` goes through the filter's own `_read` (a filter that changes
 * reads need not know about it).
 */
import type { BlockDevice } from '../block-device.js';
import { WindowDevice } from '../window.js';

export class FilterDevice extends WindowDevice {
  constructor(readonly inner: BlockDevice) {
    super(inner.name, inner, 0n, inner.size);
  }

  protected override _readInto(offset: bigint, buf: Buffer): Promise<void> {
    return this.readCopy(offset, buf);
  }

  override close(): Promise<void> {
    return this.inner.close();
  }
}
