/** A virtio-win ISO image, read with our ISO 9660 reader. */
import { VirtioWinError, type VirtioWinSource } from './source.js';

export async function openIso(path: string): Promise<VirtioWinSource> {
  throw new VirtioWinError(`${path}: ISO images are not read yet`);
}
