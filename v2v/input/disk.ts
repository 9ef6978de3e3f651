/**
 * `-i disk IMG...`: local images with no metadata. As libguestfs's virt-v2v does: the guest is
 * named after the first image, has 2 GiB and one vCPU, firmware is left to inspection, and it
 * gets one NIC on the "default" network.
 */
import { access, constants } from 'node:fs/promises';
import { openDisk } from '../../disk/open.js';
import type { Source } from '../types.js';
import { InputError } from './errors.js';
import { nameFromDisk } from './name.js';
import type { InputOptions } from './options.js';

export const DISK_MEMORY = 2n << 30n;

export async function diskInput(images: string[], opts: InputOptions): Promise<Source> {
  if (images.length === 0) throw new InputError('-i disk', 'expecting a disk image (filename) on the command line');
  for (const image of images) {
    try {
      await access(image, constants.R_OK);
    } catch (e) {
      throw new InputError(image, `cannot read: ${(e as Error).message}`);
    }
  }
  opts.debug?.(`-i disk: ${images.join(' ')}${opts.format ? ` (format ${opts.format})` : ''}`);
  return {
    name: nameFromDisk(images[0]!),
    memory: DISK_MEMORY,
    vcpus: 1,
    firmware: 'unknown',
    disks: images.map((image) => ({ name: image, open: () => openDisk(image, { format: opts.format }) })),
    cdroms: [],
    nics: [{ network: 'default', vnetType: 'network' }],
    close: async () => {},
  };
}
