/**
 * The LVM2 physical-volume label (lvm2 lib/label/label.h, lib/format_text/layout.h): a
 * "LABELONE" sector in one of the first four 512-byte sectors, followed by the pv_header
 * with the PV's UUID, its size and two zero-terminated lists of disk areas: data, then metadata.
 */
import type { BlockDevice } from '../disk/block-device.js';
import { DiskError } from '../disk/errors.js';
import { lvmCrc } from './crc32.js';

const SECTOR = 512;
const LABEL_SCAN_SECTORS = 4;
const LABEL_ID = 'LABELONE';
const LABEL_TYPE = 'LVM2 001';
// label_header fields.
const L_SECTOR = 8;
const L_CRC = 16;
const L_CRC_FROM = 20;
const L_OFFSET = 20;
const L_TYPE = 24;
const LABEL_HEADER_SIZE = 32;
// pv_header fields, from the offset the label gives.
const P_UUID = 0;
const UUID_LEN = 32;
const P_DEVICE_SIZE = 32;
const P_AREAS = 40;
const LOCN_SIZE = 16;

/** A byte range on the PV's device. */
export interface DiskArea {
  offset: bigint;
  size: bigint;
}

export interface PvLabel {
  /** 32 characters, no dashes, as stored. */
  uuid: string;
  deviceSize: bigint;
  dataAreas: DiskArea[];
  metadataAreas: DiskArea[];
  /** Byte offset of the label sector, for messages. */
  at: bigint;
}

/** The PV label of `dev`, or undefined when it has none. A damaged label is a DiskError. */
export async function readPvLabel(dev: BlockDevice): Promise<PvLabel | undefined> {
  const span = BigInt(SECTOR * LABEL_SCAN_SECTORS);
  const head = await dev.read(0n, Number(dev.size < span ? dev.size : span));
  for (let i = 0; (i + 1) * SECTOR <= head.length; i++) {
    const sector = head.subarray(i * SECTOR, (i + 1) * SECTOR);
    if (sector.toString('latin1', 0, LABEL_ID.length) !== LABEL_ID) continue;
    return parseLabel(dev.name, sector, i);
  }
  return undefined;
}

function parseLabel(image: string, sector: Buffer, index: number): PvLabel {
  const at = BigInt(index * SECTOR);
  const fail = (detail: string, field: number) => new DiskError(image, `LVM PV label: ${detail}`, at + BigInt(field));
  const sectorNo = sector.readBigUInt64LE(L_SECTOR);
  if (sectorNo !== BigInt(index)) throw fail(`says it is in sector ${sectorNo}, found in sector ${index}`, L_SECTOR);
  const stored = sector.readUInt32LE(L_CRC);
  const computed = lvmCrc(sector.subarray(L_CRC_FROM));
  if (stored !== computed) throw fail(`bad checksum (stored 0x${stored.toString(16)}, computed 0x${computed.toString(16)})`, L_CRC);
  const type = sector.toString('latin1', L_TYPE, L_TYPE + LABEL_TYPE.length);
  if (type !== LABEL_TYPE) throw fail(`unknown label type "${type}"`, L_TYPE);
  const pv = sector.readUInt32LE(L_OFFSET);
  if (pv < LABEL_HEADER_SIZE || pv + P_AREAS + LOCN_SIZE > SECTOR) throw fail(`pv_header offset ${pv} is outside the label sector`, L_OFFSET);
  const uuid = sector.toString('latin1', pv + P_UUID, pv + P_UUID + UUID_LEN);
  if (!/^[\x21-\x7e]{32}$/.test(uuid)) throw fail('PV UUID is not printable text', pv + P_UUID);
  let pos = pv + P_AREAS;
  const areaList = (what: string): DiskArea[] => {
    const list: DiskArea[] = [];
    for (;;) {
      if (pos + LOCN_SIZE > SECTOR) throw fail(`${what} area list runs past the label sector`, pos);
      const offset = sector.readBigUInt64LE(pos);
      const size = sector.readBigUInt64LE(pos + 8);
      pos += LOCN_SIZE;
      if (offset === 0n) return list;
      list.push({ offset, size });
    }
  };
  const dataAreas = areaList('data');
  const metadataAreas = areaList('metadata');
  return { uuid, deviceSize: sector.readBigUInt64LE(pv + P_DEVICE_SIZE), dataAreas, metadataAreas, at };
}

/** "KdaogRF0JK…" → "KdaogR-F0JK-cGCV-LRrC-ZBdQ-odlS-w3zwRE", as LVM prints and stores it in metadata. */
export function dashedUuid(uuid: string): string {
  const groups = [6, 4, 4, 4, 4, 4, 6];
  const parts: string[] = [];
  let at = 0;
  for (const n of groups) {
    parts.push(uuid.slice(at, at + n));
    at += n;
  }
  return parts.join('-');
}
