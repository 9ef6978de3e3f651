/** Open VIRTIO_WIN: a directory, or an ISO image (a regular file or a block device such as /dev/cdrom). */
import { stat } from 'node:fs/promises';
import { openDirectory } from './directory.js';
import { VirtioWinError, type VirtioWinSource } from './source.js';

export async function openVirtioWin(path: string): Promise<VirtioWinSource> {
  const st = await stat(path).catch((e: NodeJS.ErrnoException) => {
    throw new VirtioWinError(`${path}: cannot open the virtio-win directory or ISO: ${e.code ?? e.message}`);
  });
  if (st.isDirectory()) return openDirectory(path);
  if (st.isFile() || st.isBlockDevice()) return (await import('./iso.js')).openIso(path);
  throw new VirtioWinError(`${path}: neither a directory nor an ISO image`);
}
