/**
 * gzip inside an OVA (the whole OVA, or a member with `ovf:compression="gzip"`): gzip cannot
 * be read at random, so it is unpacked into a temporary file first, as virt-v2v does. The
 * output is bounded by the free space of the temporary directory's filesystem (a small
 * archive may claim terabytes), keeping 1 GiB free, and a damaged stream names the file.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { BlockDevice } from '../../disk/block-device.js';
import { InputError } from './errors.js';

const CHUNK = 4 << 20;
const KEEP_FREE = 1n << 30n;
/** Free space is looked at again after this many bytes written. */
const RECHECK = 256n << 20n;

export const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);

/** A temporary directory made on first use and removed by `remove()`. */
export class TempDir {
  private dir: Promise<string> | undefined;

  path(): Promise<string> {
    this.dir ??= mkdtemp(join(tmpdir(), 'guestkit-v2v-'));
    return this.dir;
  }

  async remove(): Promise<void> {
    if (this.dir) await rm(await this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }
}

/** Unpack the gzip stream in `src` into the new file `dest`; `shown` names it in errors. */
export async function gunzipTo(src: BlockDevice, dest: string, shown: string): Promise<void> {
  let offset = 0n;
  const input = new Readable({
    read() {
      if (offset >= src.size) return void this.push(null);
      const n = src.size - offset < BigInt(CHUNK) ? Number(src.size - offset) : CHUNK;
      src.read(offset, n).then((b) => {
        offset += BigInt(n);
        this.push(b);
      }, (e: Error) => this.destroy(e));
    },
  });
  let written = 0n;
  let allowed = 0n;
  const bounded = new Transform({
    transform(chunk: Buffer, _enc, done) {
      written += BigInt(chunk.length);
      if (written <= allowed) return done(null, chunk);
      statfs(dirname(dest)).then((fs) => {
        allowed = written + BigInt(fs.bavail) * BigInt(fs.bsize) - KEEP_FREE;
        if (written > allowed) return done(new InputError(shown, `unpacks to more than the ${written - BigInt(chunk.length)} bytes the temporary directory has room for (${tmpdir()}; set TMPDIR to a larger one)`));
        allowed = allowed < written + RECHECK ? allowed : written + RECHECK;
        done(null, chunk);
      }, done);
    },
  });
  try {
    await pipeline(input, createGunzip(), bounded, createWriteStream(dest, { flags: 'wx' }));
  } catch (e) {
    if (e instanceof InputError) throw e;
    const err = e as NodeJS.ErrnoException;
    if (err.code?.startsWith('Z_')) throw new InputError(shown, `is not a valid gzip stream: ${err.message}`);
    throw new InputError(shown, `cannot unpack: ${err.message}`);
  }
}
