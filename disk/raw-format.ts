import type { FormatDriver } from './format.js';

export const rawFormat: FormatDriver = {
  name: 'raw',
  hasBacking: false,
  probe: () => true,
  open: async (file) => file,
};
