/** A virtio-win ISO image, read in place (never extracted or mounted) with our ISO 9660 reader. */
import { RawFile } from '../../../../disk/raw.js';
import { Iso9660, type IsoFile } from './iso9660.js';
import { LIMITS, VirtioWinError, type VirtioWinSource } from './source.js';

/** Bytes of one directory's records: the real ISO's largest directory holds a few KiB. */
const DIRECTORY_SIZE = 16 << 20;

export async function openIso(path: string): Promise<VirtioWinSource> {
  const dev = await RawFile.open(path, false);
  try {
    const iso = await Iso9660.open(dev, path);
    const files = (await iso.files({ files: LIMITS.files, depth: LIMITS.depth, directorySize: DIRECTORY_SIZE })).map((f) => ({ ...f }));
    const byPath = new Map(files.map((f) => [f.path, f] as const));
    return {
      name: path,
      files: async () => files.map((f) => ({ path: f.path, size: f.size })),
      async read(file) {
        const f: IsoFile | undefined = byPath.get(file.path);
        if (!f) throw new VirtioWinError(`${path}: ${file.path}: no such file on the ISO`);
        if (f.size > LIMITS.fileSize) throw new VirtioWinError(`${path}: ${file.path}: ${f.size} bytes, more than ${LIMITS.fileSize}`);
        return iso.read(f);
      },
      close: () => dev.close(),
    };
  } catch (e) {
    await dev.close();
    throw e;
  }
}
