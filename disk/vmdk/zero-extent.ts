/** A ZERO extent: a range of the disk with no file behind it, reading as zeros. */
import { BaseDevice, type Extent } from '../block-device.js';

export class ZeroExtent extends BaseDevice {
  constructor(
    readonly name: string,
    readonly size: bigint,
  ) {
    super();
  }

  protected _read(_offset: bigint, length: number): Promise<Buffer> {
    return Promise.resolve(Buffer.alloc(length));
  }

  override async extents(offset: bigint, length: bigint): Promise<Extent[]> {
    this.checkRange(offset, length, 'extents');
    return [{ offset, length, hole: true, zero: true }];
  }
}
