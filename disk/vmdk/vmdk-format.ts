/**
 * The VMDK format driver (read-only): a hosted sparse file ('KDMV': monolithicSparse,
 * streamOptimized) or a text descriptor naming extent files (monolithicFlat, twoGbMaxExtent*,
 * vCenter's vmfs "-flat.vmdk" pairs). A descriptor may name a parent disk (snapshots).
 * Probing needs only the magic checks; the reader loads when a VMDK is opened.
 */
import type { FormatDriver } from '../format.js';
import { isDescriptorText } from './descriptor.js';
import { isSparseMagic } from './sparse-header.js';

export const vmdkFormat: FormatDriver = {
  name: 'vmdk',
  hasBacking: true,
  probe: (head) => isSparseMagic(head) || isDescriptorText(head),
  open: async (file, path, opts) => (await import('./open-image.js')).openVmdk(file, path, opts),
};
