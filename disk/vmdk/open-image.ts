/** Open a VMDK image (sparse or descriptor) once `vmdkFormat` has chosen it; loaded lazily. */
import type { BlockDevice } from '../block-device.js';
import { DiskError } from '../errors.js';
import type { OpenOptions } from '../format.js';
import { isDescriptorText, MAX_DESCRIPTOR_BYTES, parseDescriptor } from './descriptor.js';
import { openDescriptorDisk } from './open-descriptor.js';
import { openParent, rememberCid } from './parent.js';
import { SparseExtent } from './sparse-extent.js';
import { isSparseMagic, SECTOR } from './sparse-header.js';

export async function openVmdk(file: BlockDevice, path: string, opts: OpenOptions): Promise<BlockDevice> {
  if (opts.writable) throw new DiskError(path, 'VMDK images can only be opened read-only', undefined, 'EROFS');
  const head = await file.read(0n, Number(file.size < BigInt(SECTOR) ? file.size : BigInt(SECTOR)));
  if (isSparseMagic(head)) {
    const extent = await SparseExtent.open(file, path);
    const embedded = await extent.embeddedDescriptor(MAX_DESCRIPTOR_BYTES);
    const descriptor = embedded ? parseDescriptor(embedded, `${path} (embedded descriptor)`) : null;
    const parent = await openParent(descriptor, path, opts);
    return rememberCid(parent ? extent.withBacking({ dev: parent, start: 0n }) : extent, descriptor);
  }
  if (!isDescriptorText(head)) throw new DiskError(path, 'not a VMDK image: neither "KDMV" sparse magic nor "# Disk DescriptorFile" text', 0);
  // A large file that merely starts like a descriptor (say a raw disk whose guest wrote
  // that text) must not make us open files next to it.
  if (file.size > BigInt(MAX_DESCRIPTOR_BYTES)) {
    throw new DiskError(path, `file of ${file.size} bytes starts like a VMDK descriptor but is larger than ${MAX_DESCRIPTOR_BYTES} bytes`);
  }
  const descriptor = parseDescriptor(await file.read(0n, Number(file.size)), path);
  const parent = await openParent(descriptor, path, opts);
  try {
    return rememberCid(await openDescriptorDisk(descriptor, file, path, parent, opts), descriptor);
  } catch (e) {
    await parent?.close();
    throw e;
  }
}
