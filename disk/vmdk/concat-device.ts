/**
 * A disk made of extents laid end to end (a descriptor's extent list). Reads and extent
 * queries are split at extent boundaries; closing closes the host files the extents use.
 */
import { BaseDevice, type BlockDevice, type Extent } from '../block-device.js';
import { runAt } from '../run-search.js';
import { appendRun } from './extent-runs.js';
import { allSettled } from '../settle.js';

export class ConcatDevice extends BaseDevice {
  readonly size: bigint;
  /** Start of each part on the disk; starts[i+1] is the end of part i. */
  private readonly starts: bigint[];

  constructor(
    readonly name: string,
    private readonly parts: BlockDevice[],
    /** Host files to close with the disk (each once, however many extents share it). */
    private readonly files: BlockDevice[],
  ) {
    super();
    this.starts = [0n];
    for (const p of parts) this.starts.push(this.starts[this.starts.length - 1]! + p.size);
    this.size = this.starts[this.starts.length - 1]!;
  }

  /** The pieces of [offset, offset+length): part index, offset inside it, length. */
  private *split(offset: bigint, length: bigint): Generator<{ part: BlockDevice; start: bigint; at: bigint; length: bigint }> {
    const end = offset + length;
    for (let i = runAt(this.parts.length, (k) => this.starts[k]!, offset); i < this.parts.length && this.starts[i]! < end; i++) {
      const start = this.starts[i]!;
      const from = offset > start ? offset : start;
      const to = end < this.starts[i + 1]! ? end : this.starts[i + 1]!;
      if (to > from) yield { part: this.parts[i]!, start, at: from - start, length: to - from };
    }
  }

  protected async _read(offset: bigint, length: number): Promise<Buffer> {
    const pieces = [...this.split(offset, BigInt(length))];
    if (pieces.length === 1) return pieces[0]!.part.read(pieces[0]!.at, length);
    const out = Buffer.allocUnsafe(length);
    await this._readInto(offset, out);
    return out;
  }

  protected override async _readInto(offset: bigint, out: Buffer): Promise<void> {
    let pos = 0;
    const jobs: Promise<void>[] = [];
    for (const p of this.split(offset, BigInt(out.length))) {
      const n = Number(p.length);
      jobs.push(p.part.readInto(p.at, out.subarray(pos, pos + n)));
      pos += n;
    }
    await allSettled(jobs);
  }

  override async extents(offset: bigint, length: bigint): Promise<Extent[]> {
    this.checkRange(offset, length, 'extents');
    const runs: Extent[] = [];
    for (const p of this.split(offset, length)) {
      for (const r of await p.part.extents(p.at, p.length)) appendRun(runs, r.offset + p.start, r.length, r.hole, r.zero);
    }
    return runs;
  }

  override async close(): Promise<void> {
    await Promise.all(this.files.map((f) => f.close()));
  }
}
