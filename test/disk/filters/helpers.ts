/** Shared pieces of the filter tests: a raw image of random bytes and a random-read checker. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after } from 'node:test';
import type { BlockDevice } from '../../../disk/block-device.js';
import { FilterDevice } from '../../../disk/filters/filter-device.js';
import { log, type LogEntry } from '../../../disk/filters/log.js';
import { prng } from '../../../disk/filters/prng.js';
import { RawFile } from '../../../disk/raw.js';
import { scratch } from '../../fixtures/cache.js';

/** 4 MiB and a ragged tail, so the last block of every block size is short. */
export const IMAGE_SIZE = (4 << 20) + 1234;

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

/** A raw file of random bytes in a fresh scratch directory (removed after the tests), and those bytes. */
export async function randomImage(name: string, size = IMAGE_SIZE): Promise<{ path: string; data: Buffer; dir: string }> {
  const dir = await scratch(name);
  dirs.push(dir);
  const path = join(dir, 'disk.img');
  const data = randomBytes(size);
  await writeFile(path, data);
  return { path, data, dir };
}

/** `count` reads at random offsets and lengths (up to `maxLength`), each checked against `data`. */
export async function checkRandomReads(dev: BlockDevice, data: Buffer, count = 300, seed = 1, maxLength = 200_000): Promise<void> {
  const random = prng(seed);
  for (let n = 0; n < count; n++) {
    const length = 1 + Math.floor(random() * maxLength);
    const offset = Math.floor(random() * (data.length - length + 1));
    const got = await dev.read(BigInt(offset), length);
    if (!got.equals(data.subarray(offset, offset + length))) {
      assert.fail(`read ${n} of ${length} bytes at ${offset} returned other bytes than the file holds`);
    }
  }
}

/** Open `path` with a log filter right on top of the file, so a test sees every inner request. */
export async function loggedFile(path: string, writable = false): Promise<{ dev: BlockDevice; entries: LogEntry[] }> {
  const entries: LogEntry[] = [];
  const dev = log(await RawFile.open(path, writable), { onEntry: (e) => entries.push(e) });
  return { dev, entries };
}

export function count(entries: readonly LogEntry[], op: LogEntry['op']): number {
  return entries.filter((e) => e.op === op).length;
}

/**
 * Lets a test order events exactly: writes wait for `releaseWrites` before reaching the
 * file; reads at or past `holdFrom` reach the file at once but answer only after
 * `releaseReads`.
 */
export class Gated extends FilterDevice {
  releaseWrites!: () => void;
  releaseReads!: () => void;
  readReachedFile!: Promise<void>;
  private writesOpen = new Promise<void>((r) => (this.releaseWrites = r));
  private readsOpen = new Promise<void>((r) => (this.releaseReads = r));
  private reached!: () => void;

  constructor(
    inner: BlockDevice,
    private readonly holdFrom: bigint,
  ) {
    super(inner);
    this.readReachedFile = new Promise<void>((r) => (this.reached = r));
  }

  protected override async _read(offset: bigint, length: number): Promise<Buffer> {
    const buf = await this.inner.read(offset, length);
    if (offset < this.holdFrom) return buf;
    this.reached();
    await this.readsOpen;
    return buf;
  }

  protected override async _write(offset: bigint, data: Uint8Array): Promise<void> {
    await this.writesOpen;
    return this.inner.write(offset, data);
  }
}
