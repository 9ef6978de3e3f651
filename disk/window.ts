/**
 * A window onto part of another device, forwarding every call shifted by `start`: a
 * partition, one linear LVM segment, and (over the whole device) the base of every filter.
 */
import { BaseDevice, type BlockDevice, type Extent } from './block-device.js';

export class WindowDevice extends BaseDevice {
  constructor(
    readonly name: string,
    readonly parent: BlockDevice,
    readonly start: bigint,
    readonly size: bigint,
  ) {
    super();
    this.sectorSize = parent.sectorSize;
  }

  override canWrite(): boolean {
    return this.parent.canWrite();
  }

  override canTrim(): boolean {
    return this.parent.canTrim();
  }

  protected _read(offset: bigint, length: number): Promise<Buffer> {
    return this.parent.read(this.start + offset, length);
  }

  protected override _readInto(offset: bigint, buf: Buffer): Promise<void> {
    return this.parent.readInto(this.start + offset, buf);
  }

  protected override _write(offset: bigint, data: Uint8Array): Promise<void> {
    return this.parent.write(this.start + offset, data);
  }

  protected override _trim(offset: bigint, length: bigint): Promise<void> {
    return this.parent.trim(this.start + offset, length);
  }

  override flush(): Promise<void> {
    return this.parent.flush();
  }

  override async extents(offset: bigint, length: bigint): Promise<Extent[]> {
    this.checkRange(offset, length, 'extents');
    const runs = await this.parent.extents(this.start + offset, length);
    return runs.map((r) => ({ ...r, offset: r.offset - this.start }));
  }
}
