/**
 * Create a qcow2 v3 image: an overlay over a backing device, whose header names the backing
 * file (any string, `json:` names included) so qemu can open the pair, and whose device reads
 * unallocated clusters from `backing` and writes new clusters into the overlay; or a blank
 * image (virt-v2v's qcow2 targets), which reads zeros where nothing was written.
 *
 * Layout: header cluster, L1 table, refcount table, refcount blocks (refcount_order 4),
 * each sized to the virtual size and refcounted by the blocks themselves.
 */
import { writeFile } from 'node:fs/promises';
import type { BlockDevice } from '../block-device.js';
import { DiskError } from '../errors.js';
import { RawFile, type RawFileOptions } from '../raw.js';
import { Qcow2Device } from './device.js';
import { EXT, H, MAX_L1_ENTRIES, QCOW2_MAGIC, V3_HEADER_LENGTH } from './header.js';

export interface CreateOverlayOptions {
  /** Name written into the header (default: `backing.name`). */
  backingName?: string;
  /** Backing format written into the header extension ("raw", "qcow2", ...). */
  backingFormat?: string;
  /** Power of two from 512 to 2 MiB (default 64 KiB). */
  clusterSize?: number;
}

const DEFAULT_CLUSTER_SIZE = 65536;
const REFCOUNT_ORDER = 4;

/**
 * Create `path` (replacing any file there) as a writable qcow2 overlay over `backing`. The
 * overlay takes `backing` over: closing the overlay closes it.
 */
export async function createOverlay(backing: BlockDevice, path: string, opts: CreateOverlayOptions = {}): Promise<Qcow2Device> {
  await writeFile(path, buildImage(backing.size, path, opts.backingName ?? backing.name, opts));
  return openCreated(path, backing);
}

/**
 * Create `path` (replacing any file there) as an empty writable qcow2 image of `size` bytes;
 * `fileOptions` are its host file's (write-behind for a bulk copy).
 */
export async function createImage(path: string, size: bigint, opts: Pick<CreateOverlayOptions, 'clusterSize'> & { fileOptions?: RawFileOptions } = {}): Promise<Qcow2Device> {
  await writeFile(path, buildImage(size, path, undefined, opts));
  return openCreated(path, undefined, opts.fileOptions);
}

async function openCreated(path: string, backing: BlockDevice | undefined, fileOptions?: RawFileOptions): Promise<Qcow2Device> {
  const file = await RawFile.open(path, true, fileOptions);
  try {
    return await Qcow2Device.open(file, path, { writable: true, backing });
  } catch (e) {
    await file.close();
    throw e;
  }
}

function buildImage(size: bigint, path: string, backingName: string | undefined, opts: CreateOverlayOptions): Buffer {
  const cs = opts.clusterSize ?? DEFAULT_CLUSTER_SIZE;
  const clusterBits = Math.log2(cs);
  if (!Number.isInteger(clusterBits) || clusterBits < 9 || clusterBits > 21) {
    throw new DiskError(path, `cluster size ${cs} is not a power of two from 512 to 2097152`);
  }
  const l1Size = Number((size + BigInt(cs) * BigInt(cs / 8) - 1n) / (BigInt(cs) * BigInt(cs / 8)));
  if (l1Size > MAX_L1_ENTRIES) throw new DiskError(path, `virtual size ${size} needs more than ${MAX_L1_ENTRIES} L1 entries at cluster size ${cs}`);

  // Fixed point: the refcount blocks must also count the table, the L1 and themselves.
  const l1Clusters = Math.ceil((l1Size * 8) / cs);
  const perBlock = (cs * 8) >> REFCOUNT_ORDER;
  let blocks = 1;
  let tableClusters = 1;
  for (;;) {
    const total = 1 + l1Clusters + tableClusters + blocks;
    const needBlocks = Math.ceil(total / perBlock);
    const needTable = Math.ceil((needBlocks * 8) / cs);
    if (needBlocks === blocks && needTable === tableClusters) break;
    blocks = needBlocks;
    tableClusters = needTable;
  }
  const l1Offset = cs;
  const tableOffset = l1Offset + l1Clusters * cs;
  const blocksOffset = tableOffset + tableClusters * cs;
  const total = 1 + l1Clusters + tableClusters + blocks;
  const image = Buffer.alloc(total * cs);

  image.writeUInt32BE(QCOW2_MAGIC, H.magic);
  image.writeUInt32BE(3, H.version);
  image.writeUInt32BE(clusterBits, H.clusterBits);
  image.writeBigUInt64BE(size, H.size);
  image.writeUInt32BE(l1Size, H.l1Size);
  image.writeBigUInt64BE(BigInt(l1Offset), H.l1TableOffset);
  image.writeBigUInt64BE(BigInt(tableOffset), H.refcountTableOffset);
  image.writeUInt32BE(tableClusters, H.refcountTableClusters);
  image.writeUInt32BE(REFCOUNT_ORDER, H.refcountOrder);
  image.writeUInt32BE(V3_HEADER_LENGTH, H.headerLength);
  let pos = V3_HEADER_LENGTH;
  if (opts.backingFormat !== undefined) pos = putExtension(image, pos, EXT.backingFormat, Buffer.from(opts.backingFormat, 'latin1'));
  pos += 8; // end-of-extensions marker: type 0, length 0
  if (backingName !== undefined) {
    const name = Buffer.from(backingName, 'utf8');
    if (name.length === 0 || name.length > 1023 || pos + name.length > cs) {
      throw new DiskError(path, `backing file name of ${name.length} bytes does not fit the qcow2 header (1..1023 bytes)`);
    }
    name.copy(image, pos);
    image.writeBigUInt64BE(BigInt(pos), H.backingFileOffset);
    image.writeUInt32BE(name.length, H.backingFileSize);
  }

  for (let b = 0; b < blocks; b++) image.writeBigUInt64BE(BigInt(blocksOffset + b * cs), tableOffset + b * 8);
  for (let c = 0; c < total; c++) image.writeUInt16BE(1, blocksOffset + c * 2);
  return image;
}

function putExtension(image: Buffer, pos: number, type: number, data: Buffer): number {
  image.writeUInt32BE(type, pos);
  image.writeUInt32BE(data.length, pos + 4);
  data.copy(image, pos + 8);
  return pos + 8 + Math.ceil(data.length / 8) * 8;
}
