/**
 * The VMDK format driver (read-only): a hosted sparse file ('KDMV': monolithicSparse,
 * streamOptimized) or a text descriptor naming extent files (monolithicFlat, twoGbMaxExtent*,
 * vCenter's vmfs "-flat.vmdk" pairs).
 */
import { DiskError } from '../errors.js';
import type { FormatDriver } from '../format.js';
import { isDescriptorText, MAX_DESCRIPTOR_BYTES, parentOf, parseDescriptor, type Descriptor } from './descriptor.js';
import { openDescriptorDisk } from './open-descriptor.js';
import { SparseExtent } from './sparse-extent.js';
import { isSparseMagic, SECTOR } from './sparse-header.js';

export const vmdkFormat: FormatDriver = {
  name: 'vmdk',
  hasBacking: false,
  probe: (head) => isSparseMagic(head) || isDescriptorText(head),
  open: async (file, path, opts) => {
    if (opts.writable) throw new DiskError(path, 'VMDK images can only be opened read-only', undefined, 'EROFS');
    const head = await file.read(0n, Number(file.size < BigInt(SECTOR) ? file.size : BigInt(SECTOR)));
    if (isSparseMagic(head)) {
      const extent = await SparseExtent.open(file, path);
      const embedded = await extent.embeddedDescriptor(MAX_DESCRIPTOR_BYTES);
      if (embedded) refuseParent(parseDescriptor(embedded, `${path} (embedded descriptor)`), path);
      return extent;
    }
    if (!isDescriptorText(head)) throw new DiskError(path, 'not a VMDK image: neither "KDMV" sparse magic nor "# Disk DescriptorFile" text', 0);
    // A large file that merely starts like a descriptor (say a raw disk whose guest wrote
    // that text) must not make us open files next to it.
    if (file.size > BigInt(MAX_DESCRIPTOR_BYTES)) {
      throw new DiskError(path, `file of ${file.size} bytes starts like a VMDK descriptor but is larger than ${MAX_DESCRIPTOR_BYTES} bytes`);
    }
    const descriptor = parseDescriptor(await file.read(0n, Number(file.size)), path);
    refuseParent(descriptor, path);
    return openDescriptorDisk(descriptor, file, path);
  },
};

function refuseParent(d: Descriptor, path: string): void {
  const parent = parentOf(d);
  if (parent !== null) throw new DiskError(path, `VMDK snapshot disks with a parent are not supported (${parent})`, undefined, 'ENOTSUP');
}

