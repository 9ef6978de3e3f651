/**
 * The base of every filter, in the manner of nbdkit's `nbdkit-filter.h`: a BlockDevice that
 * wraps another and forwards every call to it unchanged, so a filter overrides only the one
 * behaviour it changes. Ranges are checked by BaseDevice before `_read`/`_write`/`_trim`.
 */
import { BaseDevice, type BlockDevice, type Extent } from '../block-device.js';

export class FilterDevice extends BaseDevice {
  readonly name: string;
  readonly size: bigint;

  constructor(readonly inner: BlockDevice) {
    super();
    this.name = inner.name;
    this.size = inner.size;
    this.sectorSize = inner.sectorSize;
  }

  override canWrite(): boolean {
    return this.inner.canWrite();
  }

  override canTrim(): boolean {
    return this.inner.canTrim();
  }

  protected _read(offset: bigint, length: number): Promise<Buffer> {
    return this.inner.read(offset, length);
  }

  protected override _write(offset: bigint, data: Uint8Array): Promise<void> {
    return this.inner.write(offset, data);
  }

  protected override _trim(offset: bigint, length: bigint): Promise<void> {
    return this.inner.trim(offset, length);
  }

  override flush(): Promise<void> {
    return this.inner.flush();
  }

  /** A filter owns the device it wraps: closing the stack closes every layer. */
  override close(): Promise<void> {
    return this.inner.close();
  }

  override extents(offset: bigint, length: bigint): Promise<Extent[]> {
    return this.inner.extents(offset, length);
  }
}
