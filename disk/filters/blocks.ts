/** Block arithmetic shared by the block-granular filters (cache, cow). */

/** Index of the first and last block touched by [offset, offset+length); length > 0. */
export function blockSpan(offset: bigint, length: number, blockSize: number): { first: bigint; last: bigint } {
  const bs = BigInt(blockSize);
  return { first: offset / bs, last: (offset + BigInt(length) - 1n) / bs };
}

/** Byte length of block `index`: the last block of a device may be short. */
export function blockLength(index: bigint, blockSize: number, size: bigint): number {
  const start = index * BigInt(blockSize);
  const left = size - start;
  return left < BigInt(blockSize) ? Number(left) : blockSize;
}

/** Split one read of consecutive whole blocks into one buffer per block (views, no copy). */
export function splitBlocks(run: Buffer, blockSize: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < run.length; at += blockSize) out.push(run.subarray(at, Math.min(at + blockSize, run.length)));
  return out;
}

/** Copy [offset, offset+length) out of consecutive blocks starting at block `first`. */
export function gather(offset: bigint, length: number, first: bigint, blocks: readonly Buffer[], blockSize: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let skip = Number(offset - first * BigInt(blockSize));
  let done = 0;
  for (const block of blocks) {
    if (done >= length) break;
    done += block.copy(out, done, skip, Math.min(block.length, skip + length - done));
    skip = 0;
  }
  return out;
}

/** Copy the part of a write (`data` at `offset`) that falls in a block starting at `blockStart`. */
export function patchBlock(block: Buffer, blockStart: bigint, offset: bigint, data: Uint8Array): void {
  const from = offset > blockStart ? Number(offset - blockStart) : 0;
  const skip = blockStart > offset ? Number(blockStart - offset) : 0;
  const n = Math.min(block.length - from, data.length - skip);
  if (n > 0) block.set(data.subarray(skip, skip + n), from);
}
