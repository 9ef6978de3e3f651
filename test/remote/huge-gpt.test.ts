/**
 * A 7 EB disk: a test server synthesises a GPT (protective MBR, both headers and entry
 * arrays, one partition) on a 7 EiB sparse object; virt-filesystems lists it over HTTP with
 * exact byte numbers, which pass 2^53 and need BigInt all the way up.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { crc32 } from 'node:zlib';
import { tool } from '../e2e/tools.js';
import { startFaultServer } from './fault-server.js';

const SIZE = 7n << 60n;
const SECTORS = SIZE / 512n;
const FIRST = 2048n;
const LAST = SECTORS - 2048n - 1n;
const LINUX_FS = '0FC63DAF-8483-4772-8E79-3D69D8477DE4';

/** A GUID in GPT's mixed-endian byte order. */
function guid(text: string): Buffer {
  const h = Buffer.from(text.replace(/-/g, ''), 'hex');
  return Buffer.concat([Buffer.from(h.subarray(0, 4)).reverse(), Buffer.from(h.subarray(4, 6)).reverse(), Buffer.from(h.subarray(6, 8)).reverse(), h.subarray(8)]);
}

function entries(): Buffer {
  const e = Buffer.alloc(128 * 128);
  guid(LINUX_FS).copy(e, 0);
  guid(randomUUID()).copy(e, 16);
  e.writeBigUInt64LE(FIRST, 32);
  e.writeBigUInt64LE(LAST, 40);
  e.write('huge', 56, 'utf16le');
  return e;
}

function header(current: bigint, backup: bigint, entriesLba: bigint, entriesCrc: number, diskGuid: Buffer): Buffer {
  const h = Buffer.alloc(512);
  h.write('EFI PART', 0, 'latin1');
  h.writeUInt32LE(0x00010000, 8);
  h.writeUInt32LE(92, 12);
  h.writeBigUInt64LE(current, 24);
  h.writeBigUInt64LE(backup, 32);
  h.writeBigUInt64LE(34n, 40);
  h.writeBigUInt64LE(SECTORS - 34n, 48);
  diskGuid.copy(h, 56);
  h.writeBigUInt64LE(entriesLba, 72);
  h.writeUInt32LE(128, 80);
  h.writeUInt32LE(128, 84);
  h.writeUInt32LE(entriesCrc, 88);
  h.writeUInt32LE(crc32(h.subarray(0, 92)), 16);
  return h;
}

/** The disk's only non-zero bytes: 34 sectors at the start, 33 at the end. */
function layout(): { head: Buffer; tail: Buffer } {
  const mbr = Buffer.alloc(512);
  mbr[446 + 4] = 0xee;
  mbr.writeUInt32LE(1, 446 + 8);
  mbr.writeUInt32LE(0xffffffff, 446 + 12);
  mbr.writeUInt16LE(0xaa55, 510);
  const ents = entries();
  const diskGuid = guid(randomUUID());
  const crc = crc32(ents);
  const head = Buffer.concat([mbr, header(1n, SECTORS - 1n, 2n, crc, diskGuid), ents]);
  const tail = Buffer.concat([ents, header(SECTORS - 1n, 1n, SECTORS - 33n, crc, diskGuid)]);
  return { head, tail };
}

test('a 7 EB GPT disk over HTTP lists its partition with exact numbers', async () => {
  const { head, tail } = layout();
  const tailStart = SIZE - BigInt(tail.length);
  const content = (offset: bigint, length: number): Buffer => {
    const out = Buffer.alloc(length);
    const end = offset + BigInt(length);
    for (const [start, buf] of [[0n, head], [tailStart, tail]] as const) {
      const from = offset > start ? offset : start;
      const to = end < start + BigInt(buf.length) ? end : start + BigInt(buf.length);
      if (from < to) buf.copy(out, Number(from - offset), Number(from - start), Number(to - start));
    }
    return out;
  };
  const server = await startFaultServer(SIZE, content);
  try {
    const out = await tool('virt-filesystems', ['-a', server.url, '--partitions', '--blkdevs', '--long', '--csv']);
    const rows = out.trim().split('\n').map((l) => l.split(','));
    const size = (name: string) => rows.find((r) => r[0] === name)?.[rows[0]!.indexOf('Size')];
    assert.equal(size('/dev/sda'), SIZE.toString());
    assert.equal(size('/dev/sda1'), ((LAST - FIRST + 1n) * 512n).toString());
    assert.equal(size('/dev/sda1'), '8070450532245831680'); // 7 EiB less 2 MiB of alignment and GPT
    assert.ok(server.seen.get < 20, `${server.seen.get} requests`);
  } finally {
    await server.stop();
  }
});
