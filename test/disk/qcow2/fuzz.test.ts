/**
 * Hostile images: bytes of the metadata clusters changed at random must give a DiskError
 * (never another exception, a hang or a huge allocation) or read successfully.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { DiskError } from '../../../disk/errors.js';
import { openDisk } from '../../../disk/open.js';
import { scratch } from '../../fixtures/cache.js';
import { hashDevice } from '../../fixtures/run.js';
import { imageDir } from './images.js';

const KiB = 1024;

async function survive(path: string): Promise<'read' | 'refused'> {
  try {
    const dev = await openDisk(path, {
      format: 'qcow2',
      openBacking: (name) => Promise.reject(new DiskError(path, `fuzz: no backing "${name.slice(0, 20)}"`)),
    });
    try {
      await hashDevice(dev, 200 * KiB);
      await dev.extents(0n, dev.size);
    } finally {
      await dev.close();
    }
    return 'read';
  } catch (e) {
    if (!(e instanceof DiskError)) throw e;
    return 'refused';
  }
}

for (const kind of ['plain', 'compressed', 'extended']) {
  test(`qcow2 fuzz (${kind}): corrupted metadata gives a DiskError or reads`, async () => {
    const opts = kind === 'extended' ? ['-o', 'cluster_size=16k,extended_l2=on'] : ['-o', 'cluster_size=4k'];
    const dir = await imageDir(`fuzz-${kind}`, [
      ['raw', 'base.raw', String(512 * KiB), String(300 * KiB), '11'],
      ['qemu-img', 'convert', ...(kind === 'compressed' ? ['-c'] : []), '-O', 'qcow2', ...opts, 'base.raw', 'img.qcow2'],
      ['qemu-io', '-f', 'qcow2', '-c', 'write -z 64k 32k', '-c', 'discard 200k 16k', 'img.qcow2'],
    ]);
    const image = await readFile(join(dir, 'img.qcow2'));
    const path = join(await scratch(`qcow2-fuzz-${kind}`), 'img.qcow2');
    const cs = 2 ** image.readUInt32BE(20);
    const metadata = Math.min(image.length, 6 * cs); // header, refcounts, L1, first L2 tables
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const outcomes = { read: 0, refused: 0 };
    for (let i = 0; i < 150; i++) {
      const bad = Buffer.from(image);
      for (let k = 0, n = 1 + rnd(4); k < n; k++) {
        const at = i % 3 === 0 ? rnd(112) : rnd(metadata); // a third of the runs hit the header
        bad[at] = rnd(3) === 0 ? 0xff : rnd(256);
      }
      await writeFile(path, bad);
      outcomes[await survive(path)]++;
    }
    assert.ok(outcomes.refused > 10, `some corruptions are refused: ${JSON.stringify(outcomes)}`);
  });
}
