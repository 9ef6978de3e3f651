/**
 * The qcow2 header (qemu docs/interop/qcow2.txt, "Header" and "Header extensions"): every
 * field is checked against the file before anything uses it to size a read or an allocation.
 */
import { minBig } from '../bigint.js';
import type { BlockDevice } from '../block-device.js';
import { DiskError } from '../errors.js';

export const QCOW2_MAGIC = 0x514649fb; // "QFI\xfb"
export const V2_HEADER_LENGTH = 72;
export const V3_HEADER_LENGTH = 104;

/** Byte offsets of the header fields this driver reads or rewrites. */
export const H = {
  magic: 0,
  version: 4,
  backingFileOffset: 8,
  backingFileSize: 16,
  clusterBits: 20,
  size: 24,
  cryptMethod: 32,
  l1Size: 36,
  l1TableOffset: 40,
  refcountTableOffset: 48,
  refcountTableClusters: 56,
  nbSnapshots: 60,
  snapshotsOffset: 64,
  incompatible: 72,
  compatible: 80,
  autoclear: 88,
  refcountOrder: 96,
  headerLength: 100,
  compressionType: 104,
} as const;

/** Incompatible feature bits. */
export const INCOMPAT = {
  dirty: 1n << 0n,
  corrupt: 1n << 1n,
  dataFile: 1n << 2n,
  compressionType: 1n << 3n,
  extendedL2: 1n << 4n,
} as const;
const KNOWN_INCOMPAT = Object.values(INCOMPAT).reduce((a, b) => a | b, 0n);

export const EXT = {
  end: 0,
  backingFormat: 0xe2792aca,
  featureNames: 0x6803f857,
  dataFile: 0x44415441,
} as const;

const MIN_CLUSTER_BITS = 9;
const MAX_CLUSTER_BITS = 21;
const MAX_BACKING_NAME = 1023;
/** qemu's limits: 32 MiB of L1 table and 8 MiB of refcount table. */
export const MAX_L1_ENTRIES = (32 << 20) / 8;
export const MAX_REFCOUNT_TABLE_BYTES = 8 << 20;

export interface Qcow2Header {
  version: 2 | 3;
  clusterBits: number;
  clusterSize: number;
  /** Virtual disk size in bytes. */
  size: bigint;
  l1Size: number;
  l1TableOffset: number;
  refcountTableOffset: number;
  refcountTableClusters: number;
  nbSnapshots: number;
  incompatible: bigint;
  autoclear: bigint;
  refcountOrder: number;
  headerLength: number;
  extendedL2: boolean;
  backingName?: string;
  backingFormat?: string;
}

/** How many header bytes to read first: enough for the fixed fields and cluster_bits. */
const HEAD_PROBE = 4096n;

/** The first cluster of the file (or the whole file if it is smaller): what `parseHeader` needs. */
export async function readHead(file: BlockDevice): Promise<Buffer> {
  const first = await file.read(0n, Number(minBig(file.size, HEAD_PROBE)));
  if (first.length < H.clusterBits + 4) return first;
  const bits = first.readUInt32BE(H.clusterBits);
  if (bits < MIN_CLUSTER_BITS || bits > MAX_CLUSTER_BITS) return first; // parseHeader refuses it
  const want = minBig(file.size, 1n << BigInt(bits));
  return want <= BigInt(first.length) ? first.subarray(0, Number(want)) : file.read(0n, Number(want));
}

/** Parse the header from `head`, as returned by `readHead`. */
export function parseHeader(head: Buffer, fileSize: bigint, image: string): Qcow2Header {
  const fail = (detail: string, at: number): never => {
    throw new DiskError(image, `qcow2 header: ${detail}`, at);
  };
  if (head.length < V2_HEADER_LENGTH) {
    throw new DiskError(image, `file of ${fileSize} bytes is too small for a qcow2 header (${V2_HEADER_LENGTH} bytes)`, 0);
  }
  if (head.readUInt32BE(H.magic) !== QCOW2_MAGIC) fail('bad magic, not a qcow2 image', H.magic);
  const rawVersion = head.readUInt32BE(H.version);
  if (rawVersion !== 2 && rawVersion !== 3) fail(`unsupported version ${rawVersion} (known: 2, 3)`, H.version);
  const version = rawVersion as 2 | 3;
  const clusterBits = head.readUInt32BE(H.clusterBits);
  if (clusterBits < MIN_CLUSTER_BITS || clusterBits > MAX_CLUSTER_BITS) {
    fail(`cluster_bits ${clusterBits} is outside ${MIN_CLUSTER_BITS}..${MAX_CLUSTER_BITS}`, H.clusterBits);
  }
  const clusterSize = 2 ** clusterBits;

  let incompatible = 0n;
  let autoclear = 0n;
  let refcountOrder = 4;
  let headerLength = V2_HEADER_LENGTH;
  let compressionType = 0;
  if (version === 3) {
    if (head.length < V3_HEADER_LENGTH) fail(`version 3 header needs ${V3_HEADER_LENGTH} bytes, the file has ${head.length}`, 0);
    incompatible = head.readBigUInt64BE(H.incompatible);
    autoclear = head.readBigUInt64BE(H.autoclear);
    refcountOrder = head.readUInt32BE(H.refcountOrder);
    headerLength = head.readUInt32BE(H.headerLength);
    if (headerLength < V3_HEADER_LENGTH || headerLength % 8 !== 0 || headerLength > Math.min(clusterSize, head.length)) {
      fail(`header_length ${headerLength} is not a multiple of 8 between ${V3_HEADER_LENGTH} and the cluster size`, H.headerLength);
    }
    if (headerLength > H.compressionType) compressionType = head[H.compressionType] ?? 0;
  }
  if (refcountOrder > 6) fail(`refcount_order ${refcountOrder} is larger than 6`, H.refcountOrder);

  const ext = readExtensions(head, headerLength, clusterSize, fail);
  const unknown = incompatible & ~KNOWN_INCOMPAT;
  if (unknown !== 0n) {
    const names = ext.featureNames.filter((f) => f.type === 0 && (unknown >> BigInt(f.bit)) & 1n).map((f) => f.name);
    fail(`unknown incompatible feature bits 0x${unknown.toString(16)}${names.length ? ` (${names.join(', ')})` : ''}`, H.incompatible);
  }
  if (incompatible & INCOMPAT.dataFile) {
    fail(`the image keeps its data in an external data file${ext.dataFile ? ` "${ext.dataFile}"` : ''}, which is not supported`, H.incompatible);
  }
  if (incompatible & INCOMPAT.compressionType || compressionType !== 0) {
    fail(`compression type ${compressionType}${compressionType === 1 ? ' (zstd)' : ''} is not supported, only zlib`, H.compressionType);
  }
  const extendedL2 = (incompatible & INCOMPAT.extendedL2) !== 0n;
  if (extendedL2 && clusterBits < 14) fail(`extended L2 entries need cluster_bits >= 14, not ${clusterBits}`, H.clusterBits);
  const cryptMethod = head.readUInt32BE(H.cryptMethod);
  if (cryptMethod !== 0) fail(`encryption method ${cryptMethod} is not supported`, H.cryptMethod);

  const size = head.readBigUInt64BE(H.size);
  const l1Size = head.readUInt32BE(H.l1Size);
  if (l1Size > MAX_L1_ENTRIES) fail(`l1_size ${l1Size} is larger than the limit of ${MAX_L1_ENTRIES} entries`, H.l1Size);
  const l2Entries = BigInt(clusterSize / (extendedL2 ? 16 : 8));
  const needed = (size + BigInt(clusterSize) * l2Entries - 1n) / (BigInt(clusterSize) * l2Entries);
  if (BigInt(l1Size) < needed) fail(`l1_size ${l1Size} is too small for a virtual size of ${size} bytes (needs ${needed})`, H.l1Size);
  const l1TableOffset = tableOffset(head, H.l1TableOffset, l1Size * 8, 'L1 table', clusterSize, fileSize, fail);

  const refcountTableClusters = head.readUInt32BE(H.refcountTableClusters);
  if (refcountTableClusters * clusterSize > MAX_REFCOUNT_TABLE_BYTES || refcountTableClusters === 0) {
    fail(`refcount_table_clusters ${refcountTableClusters} is outside 1..${MAX_REFCOUNT_TABLE_BYTES / clusterSize}`, H.refcountTableClusters);
  }
  const refcountTableOffset = tableOffset(head, H.refcountTableOffset, refcountTableClusters * clusterSize, 'refcount table', clusterSize, fileSize, fail);

  const header: Qcow2Header = {
    version,
    clusterBits,
    clusterSize,
    size,
    l1Size,
    l1TableOffset,
    refcountTableOffset,
    refcountTableClusters,
    nbSnapshots: head.readUInt32BE(H.nbSnapshots),
    incompatible,
    autoclear,
    refcountOrder,
    headerLength,
    extendedL2,
  };
  const backingOffset = head.readBigUInt64BE(H.backingFileOffset);
  const len = head.readUInt32BE(H.backingFileSize);
  // An empty name is no backing file (as qemu reads it), not the image's own directory.
  if (backingOffset !== 0n && len !== 0) {
    if (len > MAX_BACKING_NAME) fail(`backing file name of ${len} bytes is longer than ${MAX_BACKING_NAME}`, H.backingFileSize);
    if (backingOffset + BigInt(len) > BigInt(head.length)) {
      fail(`backing file name (${len} bytes at ${backingOffset}) lies outside the first cluster`, H.backingFileOffset);
    }
    header.backingName = head.toString('utf8', Number(backingOffset), Number(backingOffset) + len);
    if (ext.backingFormat !== undefined) header.backingFormat = ext.backingFormat;
  }
  return header;
}

/** A cluster-aligned table offset whose `bytes` lie inside the file. */
function tableOffset(
  head: Buffer,
  field: number,
  bytes: number,
  what: string,
  clusterSize: number,
  fileSize: bigint,
  fail: (detail: string, at: number) => never,
): number {
  const offset = head.readBigUInt64BE(field);
  if (offset % BigInt(clusterSize) !== 0n) fail(`${what} offset ${offset} is not aligned to the cluster size ${clusterSize}`, field);
  if (offset + BigInt(bytes) > fileSize) {
    fail(`${what} (${bytes} bytes at ${offset}) extends past the end of the file (${fileSize} bytes)`, field);
  }
  return Number(offset);
}

interface Extensions {
  backingFormat?: string;
  dataFile?: string;
  featureNames: { type: number; bit: number; name: string }[];
}

function readExtensions(head: Buffer, start: number, clusterSize: number, fail: (detail: string, at: number) => never): Extensions {
  const out: Extensions = { featureNames: [] };
  const end = Math.min(head.length, clusterSize);
  let pos = start;
  while (pos + 8 <= end) {
    const type = head.readUInt32BE(pos);
    const len = head.readUInt32BE(pos + 4);
    if (type === EXT.end) break;
    const data = pos + 8;
    if (data + len > end) fail(`header extension 0x${type.toString(16)} of ${len} bytes overruns the first cluster`, pos);
    if (type === EXT.backingFormat) out.backingFormat = head.toString('latin1', data, data + len);
    else if (type === EXT.dataFile) out.dataFile = head.toString('utf8', data, data + len);
    else if (type === EXT.featureNames) {
      for (let e = data; e + 48 <= data + len; e += 48) {
        const raw = head.subarray(e + 2, e + 48);
        const nul = raw.indexOf(0);
        out.featureNames.push({ type: head[e] ?? 0, bit: head[e + 1] ?? 0, name: raw.toString('latin1', 0, nul < 0 ? raw.length : nul) });
      }
    }
    pos = data + Math.ceil(len / 8) * 8;
  }
  return out;
}
