/** The qcow2 entry in the format list: probed by its magic "QFI\xfb". */
import type { FormatDriver } from '../format.js';
import { QCOW2_MAGIC } from './header.js';

export const qcow2Format: FormatDriver = {
  name: 'qcow2',
  hasBacking: true,
  probe: (head) => head.length >= 4 && head.readUInt32BE(0) === QCOW2_MAGIC,
  // The reader loads when a qcow2 is opened: probing needs only the magic.
  open: async (file, path, opts) => (await import('./device.js')).Qcow2Device.open(file, path, opts),
};
