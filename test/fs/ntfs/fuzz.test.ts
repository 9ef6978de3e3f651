import assert from 'node:assert/strict';
import { readFile as readHostFile } from 'node:fs/promises';
import { test } from 'node:test';
import { BaseDevice } from '../../../disk/block-device.js';
import { FsError } from '../../../fs/errors.js';
import type { Filesystem } from '../../../fs/filesystem.js';
import { AT } from '../../../fs/ntfs/attribute.js';
import { ntfsDriver } from '../../../fs/ntfs/driver.js';
import type { NtfsFilesystem } from '../../../fs/ntfs/ntfs.js';
import { RawFile } from '../../../disk/raw.js';
import { smallImage } from './images.js';
import { prng as rng } from '../../../disk/filters/prng.js';
import { unlocked } from '../../../fs/locked.js';

/** A read-only device over a buffer, so each round damages a private copy in memory. */
class MemoryDevice extends BaseDevice {
  readonly size: bigint;
  constructor(
    readonly name: string,
    private readonly data: Buffer,
  ) {
    super();
    this.size = BigInt(data.length);
  }

  protected async _read(offset: bigint, length: number): Promise<Buffer> {
    return Buffer.from(this.data.subarray(Number(offset), Number(offset) + length));
  }
}

/** Walk everything: names, attributes, bytes (bounded), links, streams. */
async function walk(fs: Filesystem): Promise<void> {
  let budget = 2000;
  const visit = async (ino: number, depth: number): Promise<void> => {
    if (depth > 8) return;
    for (const e of await fs.readdir(ino)) {
      if (--budget < 0) return;
      const type = e.attr.mode & 0o170000;
      if (type === 0o040000) await visit(e.attr.ino, depth + 1);
      else if (type === 0o120000) await fs.readlink(e.attr.ino);
      else await fs.read(e.attr.ino, 0, Math.min(e.attr.size, 1 << 20));
      for (const x of await fs.listxattr(e.attr.ino)) await fs.getxattr(e.attr.ino, x);
    }
  };
  await visit(fs.rootIno, 0);
}

test('ntfs fuzz: damaged metadata gives FsError, never another exception or a hang', { timeout: 300_000 }, async () => {
  const path = await smallImage();
  const clean = await readHostFile(path);
  // Where the metadata is: $MFT records and the directories' index blocks.
  const dev = await RawFile.open(path);
  const fs = unlocked(await ntfsDriver.open(dev)) as NtfsFilesystem;
  const mftAt = Number(fs.mft.dataStream.deviceOffset(0)!);
  const mftLen = Math.min(fs.mft.recordCount * fs.mft.recordSize, 512 * 1024);
  const d = await fs.mft.file((await fs.lookup(fs.rootIno, 'd')).ino);
  const run0 = d.find(AT.INDEX_ALLOCATION, '$I30')!.runs[0]!;
  const indexAt = run0.lcn * fs.boot.clusterSize;
  const indexLen = run0.len * fs.boot.clusterSize;
  await dev.close();
  const rand = rng(Number(process.env.NTFS_FUZZ_SEED ?? 7));
  const outcomes = new Map<string, number>();
  const ROUNDS = Number(process.env.NTFS_FUZZ_ROUNDS ?? 150);
  for (let round = 0; round < ROUNDS; round++) {
    const img = Buffer.from(clean);
    const hits = 1 + Math.floor(rand() * 8);
    for (let h = 0; h < hits; h++) {
      const at = rand() < 0.7 ? mftAt + Math.floor(rand() * mftLen) : indexAt + Math.floor(rand() * indexLen);
      img[at] = Math.floor(rand() * 256);
    }
    const run = async (): Promise<string> => {
      try {
        await walk(await ntfsDriver.open(new MemoryDevice(`fuzz-${round}.img`, img)));
        return 'ok';
      } catch (e) {
        if (e instanceof FsError) return e.code;
        throw new Error(`round ${round}: not an FsError: ${(e as Error).stack}`);
      }
    };
    const timeout = new Promise<string>((_, rej) => setTimeout(() => rej(new Error(`round ${round}: hang`)), 10_000).unref());
    const r = await Promise.race([run(), timeout]);
    outcomes.set(r, (outcomes.get(r) ?? 0) + 1);
  }
  assert.ok((outcomes.get('EIO') ?? 0) > 10, `damage is noticed: ${JSON.stringify([...outcomes])}`);
});
