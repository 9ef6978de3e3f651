/**
 * MBR partition tables: four primary slots in sector 0, and extended containers holding a
 * chain of EBRs, one logical partition each (numbered from 5, as Linux and sfdisk do).
 */
import { DiskError } from '../disk/errors.js';
import { makePartition } from './partition.js';
import type { Disk, Partition } from './types.js';

const SECTOR = 512;
const SIGNATURE_AT = 510;
const BOOT_SIGNATURE = 0xaa55;
const TABLE_AT = 446;
const DISK_SIGNATURE_AT = 0x1b8;
const ENTRY_SIZE = 16;
const ENTRY_STATUS = 0;
const ENTRY_TYPE = 4;
const ENTRY_START = 8;
const ENTRY_SECTORS = 12;
const BOOTABLE = 0x80;

const EXTENDED_TYPES = new Set([0x05, 0x0f, 0x85]);
export const PROTECTIVE_TYPE = 0xee;
/** A longer EBR chain is treated as damage (Linux and parted stop well before this). */
const MAX_EBRS = 128;
const FIRST_LOGICAL = 5;

export interface MbrEntry {
  /** 1-based slot in its sector. */
  slot: number;
  status: number;
  type: number;
  /** In sectors, relative to whatever this table's starts count from. */
  start: bigint;
  sectors: bigint;
}

/** The four slots of a sector, or undefined when the sector holds no partition table. */
export function parseMbr(sector: Buffer): MbrEntry[] | undefined {
  if (sector.length < SECTOR || sector.readUInt16LE(SIGNATURE_AT) !== BOOT_SIGNATURE) return undefined;
  if (looksLikeBootSector(sector)) return undefined;
  const entries: MbrEntry[] = [];
  for (let slot = 1; slot <= 4; slot++) {
    const at = TABLE_AT + (slot - 1) * ENTRY_SIZE;
    const status = sector[at + ENTRY_STATUS]!;
    // As Linux does: any other status byte means this is a boot sector, not a table.
    if (status !== 0 && status !== BOOTABLE) return undefined;
    entries.push({
      slot,
      status,
      type: sector[at + ENTRY_TYPE]!,
      start: BigInt(sector.readUInt32LE(at + ENTRY_START)),
      sectors: BigInt(sector.readUInt32LE(at + ENTRY_SECTORS)),
    });
  }
  return entries;
}

/** A filesystem's boot sector also ends in 55 AA; its OEM or FS-type strings give it away. */
function looksLikeBootSector(sector: Buffer): boolean {
  const at = (offset: number, text: string) => sector.toString('latin1', offset, offset + text.length) === text;
  return at(3, 'NTFS    ') || at(3, 'EXFAT   ') || at(0x36, 'FAT') || at(0x52, 'FAT32');
}

/** The 32-bit disk signature Windows names MBR volumes by (HKLM\\SYSTEM\\MountedDevices). */
export function mbrDiskSignature(sector: Buffer): number {
  return sector.readUInt32LE(DISK_SIGNATURE_AT);
}

export function isProtective(entries: MbrEntry[]): boolean {
  return entries.some((e) => e.type === PROTECTIVE_TYPE);
}

function isUsed(e: MbrEntry): boolean {
  return e.type !== 0 && e.sectors !== 0n;
}

function typeHex(type: number): string {
  return type.toString(16).padStart(2, '0');
}

/** Primary partitions in slot order, each extended one followed by its logical partitions. */
export async function readMbrPartitions(disk: Disk, entries: MbrEntry[], warnings: string[]): Promise<Partition[]> {
  const dev = disk.device;
  const ss = BigInt(dev.sectorSize);
  const sectors = dev.size / ss;
  const partitions: Partition[] = [];
  const logicals: Partition[] = [];
  for (const e of entries) {
    if (!isUsed(e)) continue;
    if (e.start + e.sectors > sectors) {
      warnings.push(outside(dev.name, `MBR partition ${e.slot}`, e.start, e.sectors, sectors, TABLE_AT + (e.slot - 1) * ENTRY_SIZE));
      continue;
    }
    const extended = EXTENDED_TYPES.has(e.type);
    partitions.push(makePartition(disk, {
      number: e.slot, start: e.start * ss, size: e.sectors * ss, type: typeHex(e.type),
      scheme: 'mbr', bootable: e.status === BOOTABLE, ...(extended ? { extended } : {}),
    }, dev.sectorSize));
    if (extended) logicals.push(...await readLogicals(disk, e.start, FIRST_LOGICAL + logicals.length, warnings));
  }
  return [...partitions, ...logicals];
}

/**
 * Walk the EBR chain of the extended partition starting at sector `extStart`. Each EBR's data
 * entries start relative to the EBR itself; its link to the next EBR is relative to `extStart`.
 * A chain that loops, runs too long or leaves the disk ends with a warning, keeping what was found.
 */
async function readLogicals(disk: Disk, extStart: bigint, firstNumber: number, warnings: string[]): Promise<Partition[]> {
  const dev = disk.device;
  const ss = BigInt(dev.sectorSize);
  const sectors = dev.size / ss;
  const found: Partition[] = [];
  const seen = new Set<bigint>();
  let number = firstNumber;
  let ebr: bigint | undefined = extStart;
  while (ebr !== undefined) {
    const at = ebr * ss;
    if (seen.has(ebr)) {
      warnings.push(new DiskError(dev.name, `EBR chain loops back to the EBR at sector ${ebr}; the chain ends here`, at).message);
      break;
    }
    if (seen.size >= MAX_EBRS) {
      warnings.push(new DiskError(dev.name, `EBR chain longer than ${MAX_EBRS} entries; the rest is ignored`, at).message);
      break;
    }
    seen.add(ebr);
    if (ebr >= sectors) {
      warnings.push(new DiskError(dev.name, `EBR at sector ${ebr} lies past the end of the disk (${sectors} sectors)`, at).message);
      break;
    }
    const entries = parseMbr(await dev.read(at, SECTOR));
    if (!entries) {
      warnings.push(new DiskError(dev.name, 'EBR has no 55 AA signature; the chain ends here', at).message);
      break;
    }
    let next: bigint | undefined;
    for (const e of entries) {
      if (!isUsed(e)) continue;
      if (EXTENDED_TYPES.has(e.type)) {
        next ??= extStart + e.start;
        continue;
      }
      const start = ebr + e.start;
      if (start + e.sectors > sectors) {
        warnings.push(outside(dev.name, `logical partition ${number}`, start, e.sectors, sectors, Number(at) + TABLE_AT + (e.slot - 1) * ENTRY_SIZE));
      } else {
        found.push(makePartition(disk, {
          number, start: start * ss, size: e.sectors * ss, type: typeHex(e.type), scheme: 'mbr', bootable: e.status === BOOTABLE,
        }, dev.sectorSize));
      }
      number++;
    }
    ebr = next;
  }
  return found;
}

function outside(image: string, what: string, start: bigint, count: bigint, sectors: bigint, entryAt: number): string {
  return new DiskError(image, `${what} (sectors ${start}+${count}) lies outside the disk of ${sectors} sectors; ignored`, entryAt).message;
}
