/**
 * GUID partition tables (UEFI spec, chapter 5.3). The primary header sits at LBA 1, the
 * backup at the last LBA; a damaged primary falls back to the backup with a warning. Sector
 * size (512 or 4096) is found by where "EFI PART" is. All LBA math is BigInt: a 7 EiB disk
 * has more sectors than a JS number holds exactly.
 */
import type { BlockDevice } from '../disk/block-device.js';
import { DiskError } from '../disk/errors.js';
import { crc32 } from './crc32.js';
import { guidToString, isZeroGuid } from './guid.js';
import { makePartition } from './partition.js';
import type { Disk, Partition } from './types.js';

const SIGNATURE = 'EFI PART';
const SECTOR_SIZES = [512, 4096];

// Header fields.
const H_SIGNATURE = 0;
const H_REVISION = 8;
const H_SIZE = 12;
const H_CRC = 16;
const H_MY_LBA = 24;
const H_ALTERNATE_LBA = 32;
const H_FIRST_USABLE = 40;
const H_LAST_USABLE = 48;
const H_ENTRIES_LBA = 72;
const H_ENTRY_COUNT = 80;
const H_ENTRY_SIZE = 84;
const H_ENTRIES_CRC = 88;
const MIN_HEADER_SIZE = 92;
const REVISION_MAJOR = 1;

// Entry fields.
const E_TYPE = 0;
const E_GUID = 16;
const E_FIRST = 32;
const E_LAST = 40;
const E_NAME = 56;
const NAME_BYTES = 72;
const MIN_ENTRY_SIZE = 128;
/** Far above any real table (128 × 128 bytes is usual); caps what a header can make us read. */
const MAX_ENTRIES_BYTES = 4 << 20;

interface Header {
  lba: bigint;
  firstUsable: bigint;
  lastUsable: bigint;
  entriesLba: bigint;
  entryCount: number;
  entrySize: number;
  entriesCrc: number;
}

/** A structure that fails its checks: the reason and where it is, so the caller can try the backup. */
class GptDamage extends Error {
  constructor(readonly reason: string, readonly offset: bigint) {
    super(reason);
  }
}

/** The sector size whose LBA 1 holds "EFI PART", if any. */
export async function gptSectorSize(dev: BlockDevice): Promise<number | undefined> {
  for (const ss of SECTOR_SIZES) {
    if (dev.size < BigInt(ss * 2)) continue;
    const sig = await dev.read(BigInt(ss), SIGNATURE.length);
    if (sig.toString('latin1') === SIGNATURE) return ss;
  }
  return undefined;
}

/** The partitions of a GPT disk; throws a DiskError when neither header can be used. */
export async function readGpt(disk: Disk, warnings: string[]): Promise<Partition[]> {
  const dev = disk.device;
  const found = await gptSectorSize(dev);
  const failures: string[] = [];
  for (const ss of found ? [found] : SECTOR_SIZES) {
    const sectors = dev.size / BigInt(ss);
    if (sectors < 3n) continue;
    for (const [which, lba] of [['primary', 1n], ['backup', sectors - 1n]] as const) {
      try {
        const header = await readHeader(dev, ss, lba, sectors, which === 'backup');
        const entries = await readEntries(dev, ss, header);
        if (failures.length) warnings.push(`${dev.name}: ${failures.join('; ')}; using the backup GPT header at LBA ${lba}`);
        return partitionsOf(disk, ss, header, entries, warnings);
      } catch (e) {
        if (!(e instanceof GptDamage)) throw e;
        failures.push(`${which} GPT header (${ss}-byte sectors) ${e.reason} (at byte ${e.offset})`);
      }
    }
  }
  // No sector size left room for a protective MBR, a header and a backup header.
  if (failures.length === 0) failures.push(`the disk of ${dev.size} bytes is too small for a GPT (3 sectors of ${SECTOR_SIZES[0]} bytes at least)`);
  throw new DiskError(dev.name, `GPT is unreadable: ${failures.join('; ')}`);
}

async function readHeader(dev: BlockDevice, ss: number, lba: bigint, sectors: bigint, backup: boolean): Promise<Header> {
  const at = lba * BigInt(ss);
  const buf = await dev.read(at, ss);
  const fail = (reason: string, field = 0) => new GptDamage(reason, at + BigInt(field));
  if (buf.toString('latin1', H_SIGNATURE, H_SIGNATURE + 8) !== SIGNATURE) throw fail('has no "EFI PART" signature');
  const revision = buf.readUInt32LE(H_REVISION);
  if (revision >>> 16 !== REVISION_MAJOR) throw fail(`has unknown revision 0x${revision.toString(16)}`, H_REVISION);
  const size = buf.readUInt32LE(H_SIZE);
  if (size < MIN_HEADER_SIZE || size > ss) throw fail(`has bad header size ${size}`, H_SIZE);
  const stored = buf.readUInt32LE(H_CRC);
  const copy = Buffer.from(buf.subarray(0, size));
  copy.writeUInt32LE(0, H_CRC);
  const computed = crc32(copy);
  if (computed !== stored) throw fail(`has a bad CRC32 (stored 0x${hex(stored)}, computed 0x${hex(computed)})`, H_CRC);
  const myLba = buf.readBigUInt64LE(H_MY_LBA);
  if (myLba !== lba) throw fail(`says it is at LBA ${myLba}, not ${lba}`, H_MY_LBA);
  const alternate = buf.readBigUInt64LE(H_ALTERNATE_LBA);
  // A grown disk leaves the backup short of the end, so only the backup's pointer is checked.
  if (backup && alternate !== 1n) throw fail(`points to its primary at LBA ${alternate}, not 1`, H_ALTERNATE_LBA);
  const header: Header = {
    lba,
    firstUsable: buf.readBigUInt64LE(H_FIRST_USABLE),
    lastUsable: buf.readBigUInt64LE(H_LAST_USABLE),
    entriesLba: buf.readBigUInt64LE(H_ENTRIES_LBA),
    entryCount: buf.readUInt32LE(H_ENTRY_COUNT),
    entrySize: buf.readUInt32LE(H_ENTRY_SIZE),
    entriesCrc: buf.readUInt32LE(H_ENTRIES_CRC),
  };
  if (header.firstUsable > header.lastUsable || header.lastUsable >= sectors) {
    throw fail(`has usable LBAs ${header.firstUsable}-${header.lastUsable} outside the disk of ${sectors} sectors`, H_FIRST_USABLE);
  }
  if (header.entrySize < MIN_ENTRY_SIZE || header.entrySize % 8 !== 0) throw fail(`has bad entry size ${header.entrySize}`, H_ENTRY_SIZE);
  const bytes = header.entryCount * header.entrySize;
  if (bytes > MAX_ENTRIES_BYTES) throw fail(`has ${header.entryCount} entries of ${header.entrySize} bytes, more than ${MAX_ENTRIES_BYTES} bytes`, H_ENTRY_COUNT);
  const entrySectors = BigInt(Math.ceil(bytes / ss));
  const end = header.entriesLba + entrySectors;
  if (header.entriesLba < 1n || end > sectors || (header.entriesLba <= lba && lba < end)) {
    throw fail(`has its entries at LBA ${header.entriesLba} (+${entrySectors}), outside the disk or over the header`, H_ENTRIES_LBA);
  }
  return header;
}

async function readEntries(dev: BlockDevice, ss: number, h: Header): Promise<Buffer> {
  const at = h.entriesLba * BigInt(ss);
  const buf = await dev.read(at, h.entryCount * h.entrySize);
  const computed = crc32(buf);
  if (computed !== h.entriesCrc) {
    throw new GptDamage(`has a partition array with a bad CRC32 (stored 0x${hex(h.entriesCrc)}, computed 0x${hex(computed)})`, at);
  }
  return buf;
}

function partitionsOf(disk: Disk, ss: number, h: Header, entries: Buffer, warnings: string[]): Partition[] {
  const partitions: Partition[] = [];
  const bss = BigInt(ss);
  for (let i = 0; i < h.entryCount; i++) {
    const at = i * h.entrySize;
    if (isZeroGuid(entries, at + E_TYPE)) continue;
    const first = entries.readBigUInt64LE(at + E_FIRST);
    const last = entries.readBigUInt64LE(at + E_LAST);
    if (first > last || first < h.firstUsable || last > h.lastUsable) {
      const where = h.entriesLba * bss + BigInt(at);
      warnings.push(new DiskError(disk.device.name, `GPT partition ${i + 1} (LBAs ${first}-${last}) lies outside the usable LBAs ${h.firstUsable}-${h.lastUsable}; ignored`, where).message);
      continue;
    }
    partitions.push(makePartition(disk, {
      number: i + 1,
      start: first * bss,
      size: (last - first + 1n) * bss,
      type: guidToString(entries, at + E_TYPE),
      guid: guidToString(entries, at + E_GUID),
      label: utf16Name(entries.subarray(at + E_NAME, at + E_NAME + NAME_BYTES)),
      scheme: 'gpt',
    }, ss));
  }
  return partitions;
}

/** The name field is UTF-16LE, padded with NULs. */
function utf16Name(raw: Buffer): string {
  let end = 0;
  while (end + 1 < raw.length && (raw[end] !== 0 || raw[end + 1] !== 0)) end += 2;
  return raw.toString('utf16le', 0, end);
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}
