/**
 * An LVM2 metadata area (lvm2 lib/format_text/layout.h): a 512-byte mda_header with magic and
 * checksum, whose first raw_locn points at the current VG metadata text inside a circular
 * buffer. Text that runs off the end of the area continues just after the header.
 */
import type { BlockDevice } from '../disk/block-device.js';
import { DiskError } from '../disk/errors.js';
import { lvmCrc } from './crc32.js';
import type { DiskArea } from './lvm-label.js';

const MDA_HEADER_SIZE = 512;
const MDA_MAGIC = ' LVM2 x[5A%r0N*>';
const MDA_VERSION = 1;
// mda_header fields.
const M_CHECKSUM = 0;
const M_CHECKSUM_FROM = 4;
const M_MAGIC = 4;
const M_VERSION = 20;
const M_START = 24;
const M_SIZE = 32;
const M_LOCN = 40;
// raw_locn fields, from M_LOCN.
const R_OFFSET = 0;
const R_SIZE = 8;
const R_CHECKSUM = 16;
const R_FLAGS = 20;
const RAW_LOCN_IGNORED = 1;
/** Real VG metadata is kilobytes; this caps what an image can make us allocate. */
export const MAX_METADATA_TEXT = 16 << 20;

export interface MetadataText {
  text: string;
  /** Byte offset of the text on the device, for messages. */
  at: bigint;
}

/** The current metadata text of an area, or undefined when it holds none (an orphan PV, an ignored area). */
export async function readMetadataText(dev: BlockDevice, area: DiskArea): Promise<MetadataText | undefined> {
  const fail = (detail: string, at: bigint) => new DiskError(dev.name, `LVM metadata area: ${detail}`, at);
  if (area.size < BigInt(MDA_HEADER_SIZE) || area.offset + area.size > dev.size) {
    throw fail(`area of ${area.size} bytes does not fit the device`, area.offset);
  }
  const header = await dev.read(area.offset, MDA_HEADER_SIZE);
  const field = (f: number) => area.offset + BigInt(f);
  if (header.toString('latin1', M_MAGIC, M_MAGIC + MDA_MAGIC.length) !== MDA_MAGIC) throw fail('no mda_header magic', field(M_MAGIC));
  const stored = header.readUInt32LE(M_CHECKSUM);
  const computed = lvmCrc(header.subarray(M_CHECKSUM_FROM));
  if (stored !== computed) throw fail(`mda_header has a bad checksum (stored 0x${stored.toString(16)}, computed 0x${computed.toString(16)})`, field(M_CHECKSUM));
  const version = header.readUInt32LE(M_VERSION);
  if (version !== MDA_VERSION) throw fail(`unknown mda_header version ${version}`, field(M_VERSION));
  const start = header.readBigUInt64LE(M_START);
  if (start !== area.offset) throw fail(`mda_header says it starts at ${start}`, field(M_START));
  const size = header.readBigUInt64LE(M_SIZE);
  if (size !== area.size) throw fail(`mda_header says the area is ${size} bytes, the label says ${area.size}`, field(M_SIZE));

  const locn = M_LOCN;
  const offset = header.readBigUInt64LE(locn + R_OFFSET);
  const length = header.readBigUInt64LE(locn + R_SIZE);
  if (offset === 0n || length === 0n || (header.readUInt32LE(locn + R_FLAGS) & RAW_LOCN_IGNORED) !== 0) return undefined;
  const ring = size - BigInt(MDA_HEADER_SIZE);
  if (offset < BigInt(MDA_HEADER_SIZE) || offset >= size || length > ring || length > BigInt(MAX_METADATA_TEXT)) {
    throw fail(`metadata of ${length} bytes at offset ${offset} does not fit the ${size}-byte area`, field(locn + R_OFFSET));
  }
  // The text may wrap: the part past the end of the area continues right after the header.
  const first = length < size - offset ? length : size - offset;
  const parts = [await dev.read(start + offset, Number(first))];
  if (first < length) parts.push(await dev.read(start + BigInt(MDA_HEADER_SIZE), Number(length - first)));
  const raw = Buffer.concat(parts);
  const sum = lvmCrc(raw);
  const want = header.readUInt32LE(locn + R_CHECKSUM);
  if (sum !== want) throw fail(`metadata text has a bad checksum (stored 0x${want.toString(16)}, computed 0x${sum.toString(16)})`, start + offset);
  // The stored text ends in a NUL.
  let end = raw.length;
  while (end > 0 && raw[end - 1] === 0) end--;
  return { text: raw.toString('utf8', 0, end), at: start + offset };
}
