/** The format drivers `openDisk` knows, in probing order (raw last: it matches anything). */
import type { FormatDriver } from './format.js';
import { qcow2Format } from './qcow2/format.js';
import { rawFormat } from './raw-format.js';
import { vmdkFormat } from './vmdk/vmdk-format.js';

export const formats: FormatDriver[] = [qcow2Format, vmdkFormat, rawFormat];
