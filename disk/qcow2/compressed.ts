/**
 * Compressed clusters ("Compressed Clusters Descriptor" in qcow2.txt): raw deflate data at a
 * byte offset, spanning a counted number of 512-byte sectors. Neighbouring clusters are read
 * in one file read, and the last few inflated clusters are kept for small sequential reads.
 */
import type { BlockDevice } from '../block-device.js';
import { DiskError } from '../errors.js';
import { Lru } from '../lru.js';

const RECENT_CLUSTERS = 8;
/** node:zlib, loaded on the first compressed cluster: most images have none (start-up). */
let zlib: typeof import('node:zlib') | undefined;
/** Join compressed clusters into one file read across gaps up to this, and up to this total. */
const JOIN_GAP = 64 << 10;
const MAX_JOINED = 8 << 20;

/** Host byte range [start, end) holding a compressed cluster's data. */
export interface CompressedRange {
  start: number;
  end: number;
}

/** The compressed cluster descriptor (bits 0-61) of an L2 entry given as two 32-bit halves. */
export function compressedDesc(hi: number, lo: number): bigint {
  return (BigInt(hi & 0x3fffffff) << 32n) | BigInt(lo);
}

/**
 * Where a compressed cluster's data lies. `start` is the exact byte; `end` is the end of the
 * last counted sector. qemu counts refcounts from the sector holding `start`.
 */
export function compressedRange(desc: bigint, clusterBits: number): CompressedRange {
  const x = BigInt(62 - (clusterBits - 8));
  const offset = desc & ((1n << x) - 1n);
  const sectors = ((desc >> x) & ((1n << BigInt(clusterBits - 8)) - 1n)) + 1n;
  // Offsets past 2^53 cannot be in a real file; keep them past any file size as numbers.
  return { start: Number(offset), end: Number((offset & ~511n) + sectors * 512n) };
}

export class CompressedReader {
  private readonly recent = new Lru<bigint, Buffer>(RECENT_CLUSTERS);

  constructor(
    private readonly file: BlockDevice,
    private readonly image: string,
    private readonly clusterBits: number,
  ) {}

  /** The inflated clusters for these descriptors, in order. */
  async clusters(descs: bigint[]): Promise<Buffer[]> {
    const out: Buffer[] = new Array<Buffer>(descs.length);
    let i = 0;
    while (i < descs.length) {
      const cached = this.recent.get(descs[i]!);
      if (cached) {
        out[i++] = cached;
        continue;
      }
      // Gather the following uncached clusters whose data lies close after this one.
      const first = this.range(descs[i]!);
      const group: { index: number; range: CompressedRange }[] = [{ index: i, range: first }];
      let end = first.end;
      for (let j = i + 1; j < descs.length && !this.recent.get(descs[j]!); j++) {
        const r = this.range(descs[j]!);
        if (r.start < first.start || r.start > end + JOIN_GAP || Math.max(end, r.end) - first.start > MAX_JOINED) break;
        group.push({ index: j, range: r });
        end = Math.max(end, r.end);
      }
      const bytes = await this.file.read(BigInt(first.start), end - first.start);
      zlib ??= await import('node:zlib');
      for (const { index, range } of group) {
        const cluster = this.inflate(zlib, bytes.subarray(range.start - first.start, range.end - first.start), range.start);
        this.recent.set(descs[index]!, cluster);
        out[index] = cluster;
      }
      i += group.length;
    }
    return out;
  }

  /** The descriptor's range, clamped to the file (the last sector may be cut short). */
  private range(desc: bigint): CompressedRange {
    const r = compressedRange(desc, this.clusterBits);
    const size = Number(this.file.size);
    if (r.start >= size) {
      throw new DiskError(this.image, `compressed cluster data at ${r.start} lies past the end of the file (${size} bytes)`);
    }
    return { start: r.start, end: Math.min(r.end, size) };
  }

  /**
   * Synchronous on purpose, as VMDK grains are: Node's async zlib (a stream object and a
   * thread-pool round trip per call) costs about 3× the CPU for cluster-sized inputs.
   */
  private inflate(z: typeof import('node:zlib'), data: Buffer, at: number): Buffer {
    const size = 2 ** this.clusterBits;
    let out: Buffer;
    try {
      // Sync flush: qemu stops once a cluster is produced, so the stream need not be closed.
      out = z.inflateRawSync(data, { maxOutputLength: size, finishFlush: z.constants.Z_SYNC_FLUSH });
    } catch (e) {
      throw new DiskError(this.image, `compressed cluster does not inflate: ${(e as Error).message}`, at);
    }
    if (out.length !== size) {
      throw new DiskError(this.image, `compressed cluster inflates to ${out.length} bytes, not the cluster size ${size}`, at);
    }
    return out;
  }
}
