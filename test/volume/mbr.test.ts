import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { scanVolumes } from '../../volume/scan.js';
import { fixture } from '../fixtures/cache.js';
import { run } from '../fixtures/run.js';
import { closeDisks, openDisks, scratchCopy, sfdiskPartitions } from './helpers.js';
import { patch } from '../fixtures/patch.js';

const SCRIPT = `label: dos
unit: sectors
start=2048, size=8192, type=83, bootable
start=10240, size=4096, type=7
start=14336, size=40960, type=5
start=16384, size=4096, type=83
start=22528, size=8192, type=82
start=32768, size=8192, type=8e
`;

/** 32 MiB: two primaries, an extended container and three logical partitions, by sfdisk. */
function mbrImage(): Promise<string> {
  return fixture('mbr.img', SCRIPT, async (path) => {
    await run('truncate', ['-s', '32M', path]);
    await run('sfdisk', ['-q', path], { input: SCRIPT });
  });
}

test('mbr: primaries, extended container and logical partitions match sfdisk --json', async () => {
  const image = await mbrImage();
  const expected = await sfdiskPartitions(image);
  const disks = await openDisks(image);
  const scan = await scanVolumes(disks);
  assert.deepEqual(scan.tables, { '/dev/sda': 'mbr' });
  assert.deepEqual(scan.warnings, []);
  assert.deepEqual(
    scan.partitions.map((p) => ({ number: p.number, start: Number(p.start / 512n), size: Number(p.size / 512n), type: parseInt(p.type, 16), bootable: p.bootable === true })),
    expected,
  );
  assert.deepEqual(scan.partitions.map((p) => p.name), ['/dev/sda1', '/dev/sda2', '/dev/sda3', '/dev/sda5', '/dev/sda6', '/dev/sda7']);
  assert.deepEqual(scan.partitions.filter((p) => p.extended).map((p) => p.name), ['/dev/sda3']);
  assert.ok(scan.partitions.every((p) => p.scheme === 'mbr'));
  await closeDisks(disks);
});

test('mbr: a partition device is a window that reads the disk at its start and names both', async () => {
  const image = await mbrImage();
  const disks = await openDisks(image);
  const { partitions } = await scanVolumes(disks);
  const p6 = partitions.find((p) => p.name === '/dev/sda6')!;
  assert.equal(p6.device.size, p6.size);
  assert.deepEqual(await p6.device.read(0n, 512), await disks[0]!.device.read(p6.start, 512));
  await assert.rejects(p6.device.read(p6.size - 1n, 2), (e: Error) => e.message.includes(`${image} (/dev/sda6)`));
  await closeDisks(disks);
});

/** Sector numbers of the EBRs of the extended partition at `extStart`, walked by hand. */
async function ebrSectors(image: string, extStart: number): Promise<number[]> {
  const buf = await readFile(image);
  const found: number[] = [];
  for (let ebr = extStart; found.length < 10; ) {
    found.push(ebr);
    const link = ebr * 512 + 446 + 16;
    if (buf[link + 4] === 0) break;
    ebr = extStart + buf.readUInt32LE(link + 8);
  }
  return found;
}

test('mbr: an EBR chain that loops back ends with a warning, each logical partition listed once', async () => {
  const image = await scratchCopy(await mbrImage(), 'ebr-loop');
  const ebrs = await ebrSectors(image, 14336);
  assert.equal(ebrs.length, 3);
  // The last EBR's empty link slot now points back at the first EBR.
  const link = Buffer.alloc(16);
  link[4] = 0x05;
  link.writeUInt32LE(0, 8);
  link.writeUInt32LE(2048, 12);
  await patch(image, ebrs[2]! * 512 + 446 + 16, link);
  const disks = await openDisks(image);
  const scan = await scanVolumes(disks);
  assert.deepEqual(scan.partitions.map((p) => p.number), [1, 2, 3, 5, 6, 7]);
  assert.equal(scan.warnings.length, 1);
  assert.match(scan.warnings[0]!, /EBR chain loops back to the EBR at sector 14336/);
  assert.ok(scan.warnings[0]!.startsWith(image));
  await closeDisks(disks);
});

test('mbr: an entry reaching past the end of the disk is ignored with a warning', async () => {
  const image = await scratchCopy(await mbrImage(), 'mbr-outside');
  const size = Buffer.alloc(4);
  size.writeUInt32LE(70000); // the disk has 65536 sectors
  await patch(image, 446 + 16 + 12, size);
  const disks = await openDisks(image);
  const scan = await scanVolumes(disks);
  assert.deepEqual(scan.partitions.map((p) => p.number), [1, 3, 5, 6, 7]);
  assert.equal(scan.warnings.length, 1);
  assert.match(scan.warnings[0]!, /MBR partition 2 \(sectors 10240\+70000\) lies outside the disk of 65536 sectors; ignored \(at byte 462\)/);
  await closeDisks(disks);
});

test('mbr: a whole-disk FAT filesystem (55 AA but a boot sector) is no partition table', async () => {
  const image = await fixture('fat-whole.img', 'mkfs.vfat -C 8192', async (path) => {
    await run('mkfs.vfat', ['-C', path, '8192']);
  });
  const disks = await openDisks(image);
  const scan = await scanVolumes(disks);
  assert.deepEqual(scan.tables, {});
  assert.deepEqual(scan.partitions, []);
  await closeDisks(disks);
});

test('mbr: an EBR chain longer than 128 stops with a warning after 128 logical partitions', async () => {
  const image = await fixture('mbr-long-chain.img', 'sfdisk extended over 1-2047', async (path) => {
    await run('truncate', ['-s', '1M', path]);
    await run('sfdisk', ['-q', path], { input: 'label: dos\nunit: sectors\nstart=1, size=2047, type=5\n' });
  });
  const path = await scratchCopy(image, 'ebr-long');
  // 200 EBRs, one every 4 sectors, each holding a 1-sector logical partition and a link to the next.
  for (let i = 0; i < 200; i++) {
    const ebr = Buffer.alloc(512);
    ebr[446 + 4] = 0x83;
    ebr.writeUInt32LE(1, 446 + 8);
    ebr.writeUInt32LE(1, 446 + 12);
    ebr[462 + 4] = 0x05;
    ebr.writeUInt32LE(4 * (i + 1), 462 + 8);
    ebr.writeUInt32LE(2, 462 + 12);
    ebr.writeUInt16LE(0xaa55, 510);
    await patch(path, (1 + 4 * i) * 512, ebr);
  }
  const disks = await openDisks(path);
  const scan = await scanVolumes(disks);
  const logicals = scan.partitions.filter((p) => p.number >= 5);
  assert.equal(logicals.length, 128);
  assert.equal(logicals[127]!.start, BigInt((1 + 4 * 127 + 1) * 512));
  assert.equal(scan.warnings.length, 1);
  assert.match(scan.warnings[0]!, /EBR chain longer than 128 entries; the rest is ignored \(at byte 262656\)/);
  await closeDisks(disks);
});
