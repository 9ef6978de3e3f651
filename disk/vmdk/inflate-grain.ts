/**
 * Inflate one compressed grain. VMware and qemu write zlib streams (RFC 1950); some writers
 * emit bare deflate (RFC 1951), told apart by the zlib header check. The output is capped at
 * the grain size, so a hostile "zip bomb" grain cannot make us allocate more. zlib's async
 * calls run on libuv's thread pool, so several grains inflate in parallel.
 */
import { promisify } from 'node:util';
import { inflate, inflateRaw } from 'node:zlib';
import { DiskError } from '../errors.js';

const inflateAsync = promisify(inflate);
const inflateRawAsync = promisify(inflateRaw);

function isZlibHeader(data: Buffer): boolean {
  return data.length >= 2 && (data[0]! & 0x0f) === 8 && ((data[0]! << 8) | data[1]!) % 31 === 0;
}

/** The grain's `grainBytes` bytes; a stream that ends early leaves zeros after its end. */
export async function inflateGrain(data: Buffer, grainBytes: number, image: string, at: number): Promise<Buffer> {
  let out: Buffer;
  try {
    const opts = { maxOutputLength: grainBytes };
    out = await (isZlibHeader(data) ? inflateAsync(data, opts) : inflateRawAsync(data, opts));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ERR_BUFFER_TOO_LARGE' ? `inflates to more than the grain size of ${grainBytes} bytes` : `bad deflate data (${err.message})`;
    throw new DiskError(image, `compressed grain of ${data.length} bytes: ${why}`, at);
  }
  if (out.length === grainBytes) return out;
  const full = Buffer.alloc(grainBytes);
  out.copy(full);
  return full;
}
