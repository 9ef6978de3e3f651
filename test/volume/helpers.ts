/** Shared by the volume tests: opening images as disks, loop devices, and what the real tools report. */
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RawFile } from '../../disk/raw.js';
import type { Disk } from '../../volume/types.js';
import { scratch } from '../fixtures/cache.js';
import { run } from '../fixtures/run.js';

/** Images opened read-only and named /dev/sda, /dev/sdb, … in order. */
export async function openDisks(...paths: string[]): Promise<Disk[]> {
  const disks: Disk[] = [];
  for (const [i, path] of paths.entries()) {
    disks.push({ name: `/dev/sd${String.fromCharCode(97 + i)}`, device: await RawFile.open(path) });
  }
  return disks;
}

export async function closeDisks(disks: Disk[]): Promise<void> {
  for (const d of disks) await d.device.close();
}

/** A private copy of a fixture, for tests that damage it. */
export async function scratchCopy(fixturePath: string, name: string): Promise<string> {
  const path = join(await scratch(name), `${name}.img`);
  await copyFile(fixturePath, path);
  return path;
}

/** Run `fn` with `image` attached to a loop device; always detached again. */
export async function withLoop<T>(image: string, args: string[], fn: (dev: string) => Promise<T>): Promise<T> {
  const dev = (await run('losetup', ['-f', '--show', ...args, image])).trim();
  try {
    return await fn(dev);
  } finally {
    await run('losetup', ['-d', dev]);
  }
}

export interface SfdiskPartition {
  number: number;
  start: number;
  size: number;
  type: number;
  bootable: boolean;
}

export async function sfdiskPartitions(image: string): Promise<SfdiskPartition[]> {
  const json = JSON.parse(await run('sfdisk', ['--json', image])) as {
    partitiontable: { partitions: { node: string; start: number; size: number; type: string; bootable?: boolean }[] };
  };
  return json.partitiontable.partitions.map((p) => ({
    number: Number(/(\d+)$/.exec(p.node)![1]),
    start: p.start,
    size: p.size,
    type: parseInt(p.type, 16),
    bootable: p.bootable === true,
  }));
}

export interface SgdiskPartition {
  typeGuid: string;
  uniqueGuid: string;
  first: bigint;
  last: bigint;
  sectors: bigint;
  name: string;
}

/** What `sgdisk -i N` says about one partition (sgdisk -i parses the text, so this is the reference). */
export function parseSgdiskInfo(text: string): SgdiskPartition {
  const field = (re: RegExp) => {
    const m = re.exec(text);
    if (!m) throw new Error(`sgdisk -i output lacks ${re}: ${text}`);
    return m[1]!;
  };
  return {
    typeGuid: field(/^Partition GUID code: (\S+)/m),
    uniqueGuid: field(/^Partition unique GUID: (\S+)/m),
    first: BigInt(field(/^First sector: (\d+)/m)),
    last: BigInt(field(/^Last sector: (\d+)/m)),
    sectors: BigInt(field(/^Partition size: (\d+) sectors/m)),
    name: field(/^Partition name: '(.*)'$/m),
  };
}

export async function sgdiskInfo(image: string, n: number): Promise<SgdiskPartition> {
  return parseSgdiskInfo(await run('sgdisk', ['-i', String(n), image]));
}
