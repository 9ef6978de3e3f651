import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { BlockDevice } from '../../../disk/block-device.js';
import { openDisk } from '../../../disk/open.js';
import { hashDevice, qemuRawHash, run } from '../../fixtures/run.js';
import { imageDir, type Step } from './images.js';

const MiB = 1 << 20;
const base: Step = ['raw', 'base.raw', String(6 * MiB), String(4 * MiB + 12345), '1'];
const qio = (img: string, ...cmds: string[]): Step => ['qemu-io', '-f', 'qcow2', ...cmds.flatMap((c) => ['-c', c]), img];

interface Case {
  name: string;
  steps: Step[];
  image: string;
  /** No backing file: our zero/data runs must match `qemu-img map` exactly. */
  standalone: boolean;
}

const cases: Case[] = [
  { name: 'v2', steps: [base, ['qemu-img', 'convert', '-O', 'qcow2', '-o', 'compat=0.10', 'base.raw', 'img.qcow2']], image: 'img.qcow2', standalone: true },
  { name: 'v3', steps: [base, ['qemu-img', 'convert', '-O', 'qcow2', 'base.raw', 'img.qcow2']], image: 'img.qcow2', standalone: true },
  {
    name: 'v3-small-clusters',
    steps: [base, ['qemu-img', 'convert', '-O', 'qcow2', '-o', 'cluster_size=512', 'base.raw', 'img.qcow2']],
    image: 'img.qcow2',
    standalone: true,
  },
  { name: 'compressed', steps: [base, ['qemu-img', 'convert', '-c', '-O', 'qcow2', 'base.raw', 'img.qcow2']], image: 'img.qcow2', standalone: true },
  {
    name: 'compressed-then-written',
    steps: [base, ['qemu-img', 'convert', '-c', '-O', 'qcow2', 'base.raw', 'img.qcow2'], qio('img.qcow2', 'write -P 0x31 70k 5k', 'write -z 1M 64k')],
    image: 'img.qcow2',
    standalone: true,
  },
  {
    name: 'extended-l2',
    steps: [
      base,
      ['qemu-img', 'convert', '-O', 'qcow2', '-o', 'extended_l2=on', 'base.raw', 'img.qcow2'],
      qio('img.qcow2', 'write -P 0x41 4100k 3k', 'write -z 130k 6k', 'write -z 5M 200k', 'discard 2M 64k'),
    ],
    image: 'img.qcow2',
    standalone: true,
  },
  {
    name: 'zero-clusters-and-discards',
    steps: [
      base,
      ['qemu-img', 'convert', '-O', 'qcow2', 'base.raw', 'img.qcow2'],
      qio('img.qcow2', 'write -z 64k 128k', 'write -z -u 1M 256k', 'discard 2M 192k', 'write -P 0x7e 2100k 10k', 'write -z 5M 1M'),
    ],
    image: 'img.qcow2',
    standalone: true,
  },
  {
    name: 'v2-discards',
    steps: [
      base,
      ['qemu-img', 'convert', '-O', 'qcow2', '-o', 'compat=0.10', 'base.raw', 'img.qcow2'],
      qio('img.qcow2', 'discard 1M 128k', 'write -z 3M 64k', 'write -P 0x12 3100k 1k'),
    ],
    image: 'img.qcow2',
    standalone: true,
  },
  {
    // qcow2 (extended L2) over qcow2 v2 over raw, each layer written by qemu-io; the middle
    // layer is larger than the raw base, so its tail reads as zeros.
    name: 'chain',
    steps: [
      base,
      ['qemu-io', '-f', 'raw', '-c', 'write -P 0x44 20k 90k', '-c', 'write -P 0x45 5M 100k', 'base.raw'],
      ['qemu-img', 'create', '-f', 'qcow2', '-o', 'compat=0.10', '-b', 'base.raw', '-F', 'raw', 'mid.qcow2', '8M'],
      qio('mid.qcow2', 'write -P 0x55 100k 300k', 'write -P 0x56 6100k 50k', 'discard 1M 64k'),
      ['qemu-img', 'create', '-f', 'qcow2', '-o', 'extended_l2=on', '-b', 'mid.qcow2', '-F', 'qcow2', 'top.qcow2'],
      qio('top.qcow2', 'write -P 0x66 150k 7k', 'write -z 2100k 100k', 'write -P 0x67 7M 33k', 'discard 3M 64k'),
    ],
    image: 'top.qcow2',
    standalone: false,
  },
  {
    name: 'chain-compressed-base',
    steps: [
      base,
      ['qemu-img', 'convert', '-c', '-O', 'qcow2', 'base.raw', 'low.qcow2'],
      ['qemu-img', 'create', '-f', 'qcow2', '-b', 'low.qcow2', '-F', 'qcow2', 'top.qcow2'],
      qio('top.qcow2', 'write -P 0x77 65000 70000', 'write -z 4M 8k'),
    ],
    image: 'top.qcow2',
    standalone: false,
  },
];

/**
 * readInto a window of a larger buffer at offsets and sizes that cross clusters, zero and
 * compressed clusters and backing-file edges: the bytes of `qemu-img convert -O raw`, and
 * nothing written outside the window.
 */
async function checkReadInto(dev: BlockDevice, image: string): Promise<void> {
  const raw = `${image}.${process.pid}.readinto.tmp`;
  await run('qemu-img', ['convert', '-O', 'raw', image, raw]);
  try {
    const want = await readFile(raw);
    const spans: [number, number][] = [[0, 1], [511, 2], [65535, 3], [65000, 70000], [100 << 10, 300 << 10], [1 << 20, 64 << 10], [(2 << 20) + 100, 200 << 10], [4 * MiB + 12340, 10], [want.length - 4097, 4097]];
    for (const [at, len] of spans) {
      const outer = Buffer.alloc(len + 64, 0xa5);
      await dev.readInto(BigInt(at), outer.subarray(32, 32 + len));
      assert.ok(outer.subarray(32, 32 + len).equals(want.subarray(at, at + len)), `readInto of ${len} bytes at ${at}`);
      assert.ok([...outer.subarray(0, 32), ...outer.subarray(32 + len)].every((b) => b === 0xa5), `readInto of ${len} bytes at ${at} wrote outside its buffer`);
    }
  } finally {
    await rm(raw, { force: true });
  }
}

async function qemuZeroRuns(path: string): Promise<[bigint, bigint, boolean][]> {
  const map = JSON.parse(await run('qemu-img', ['map', '--output=json', path])) as { start: number; length: number; zero: boolean }[];
  return map.map((m) => [BigInt(m.start), BigInt(m.length), m.zero]);
}

/** Whether every byte of [start, start+length) is reported zero (true), data (false), or mixed. */
function zeroState(dev: Awaited<ReturnType<BlockDevice['extents']>>, start: bigint, length: bigint): boolean | 'mixed' {
  const states = new Set(dev.filter((e) => e.offset < start + length && e.offset + e.length > start).map((e) => e.zero));
  return states.size === 1 ? [...states][0]! : 'mixed';
}

for (const c of cases) {
  test(`qcow2 read ${c.name}: whole device hash equals qemu-img convert -O raw`, async () => {
    const path = join(await imageDir(c.name, c.steps), c.image);
    const dev = await openDisk(path, { format: 'qcow2' });
    try {
      const want = await qemuRawHash(path);
      assert.equal(await hashDevice(dev, MiB), want, '1 MiB reads');
      assert.equal(await hashDevice(dev, 4096 * 3 + 517), want, 'small unaligned reads');
      await checkReadInto(dev, path);
      const extents = await dev.extents(0n, dev.size);
      assert.equal(extents.reduce((n, e) => n + e.length, 0n), dev.size, 'extents cover the device');
      if (c.standalone) {
        for (const [start, length, zero] of await qemuZeroRuns(path)) {
          assert.equal(zeroState(extents, start, length), zero, `zero state of ${start}+${length}`);
        }
      }
    } finally {
      await dev.close();
    }
  });
}

test('qcow2 read: a 16 PiB image (offsets past 2^53) reads and maps data near its end', async () => {
  const size = 2n ** 54n;
  const at = size - 3n * BigInt(MiB) + 1234n;
  const dir = await imageDir('huge', [
    ['qemu-img', 'create', '-f', 'qcow2', '-o', 'cluster_size=2M', 'img.qcow2', String(size)],
    qio('img.qcow2', `write -P 0x5a ${at} 70000`),
  ]);
  const path = join(dir, 'img.qcow2');
  const dev = await openDisk(path, { format: 'qcow2' });
  try {
    assert.equal(dev.size, size);
    const got = await dev.read(at - 10n, 70020);
    assert.deepEqual(got, Buffer.concat([Buffer.alloc(10), Buffer.alloc(70000, 0x5a), Buffer.alloc(10)]));
    const qemu = await run('qemu-io', ['-f', 'qcow2', '-c', `read -P 0x5a ${at} 70000`, '-c', `read -P 0 ${at - 10n} 10`, path]);
    assert.match(qemu, /read 70000\/70000 bytes/);
    const data = (await dev.extents(0n, size)).filter((e) => !e.zero);
    const cluster = 2n << 20n;
    assert.deepEqual(data, [{ offset: (at / cluster) * cluster, length: cluster, hole: false, zero: false }]);
  } finally {
    await dev.close();
  }
});
