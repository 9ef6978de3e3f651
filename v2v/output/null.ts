/** `-o null`: convert, read every disk as the copy would, and keep nothing (tests, benchmarks). */
import { BaseDevice } from '../../disk/block-device.js';
import { copyDisks } from './disks.js';
import type { Output, OutputJob } from './output.js';

/** A device that discards writes (and reads as zeros). */
class NullDevice extends BaseDevice {
  readonly name = 'null';
  constructor(readonly size: bigint) {
    super();
  }

  override canWrite(): boolean {
    return true;
  }

  protected _read(_offset: bigint, length: number): Promise<Buffer> {
    return Promise.resolve(Buffer.alloc(length));
  }

  protected override _write(): Promise<void> {
    return Promise.resolve();
  }
}

export class NullOutput implements Output {
  readonly description = '-o null';

  check(): Promise<void> {
    return Promise.resolve();
  }

  async write(job: OutputJob): Promise<void> {
    await copyDisks(job.disks, (d) => Promise.resolve(new NullDevice(d.size)), { allocate: false }, job.copy);
  }
}
