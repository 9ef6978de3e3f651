/**
 * A disk described by a text descriptor: open each extent it lists (FLAT/VMFS files,
 * SPARSE files, ZERO ranges) and lay them end to end. Extent files are opened read-only.
 * A descriptor read from a URL names URLs beside it, opened through `openDisk`'s backing
 * hook: as raw sources, and only when the descriptor's format was given (a probed image
 * opens nothing it names).
 * With a parent disk, each sparse extent reads its unallocated grains from the parent at the
 * extent's own position on the disk.
 */
import type { BlockDevice } from '../block-device.js';
import { DiskError, FormatNeededError } from '../errors.js';
import type { OpenOptions } from '../format.js';
import { RawFile } from '../raw.js';
import { WindowDevice } from '../window.js';
import { ConcatDevice } from './concat-device.js';
import type { Descriptor, ExtentLine } from './descriptor.js';
import { resolveExtentPath, resolveExtentUrl } from './extent-path.js';
import { SECTOR } from './sparse-header.js';
import { GrainCaches, SparseExtent, type Backing } from './sparse-extent.js';
import { ZeroExtent } from './zero-extent.js';

export async function openDescriptorDisk(descriptor: Descriptor, descriptorFile: BlockDevice, path: string, parent: BlockDevice | null, opts: OpenOptions = {}): Promise<BlockDevice> {
  if (descriptor.extents.length === 0) throw new DiskError(path, 'VMDK descriptor lists no extents');
  const files = new Map<string, BlockDevice>();
  const parts: BlockDevice[] = [];
  const caches = new GrainCaches();
  let start = 0n;
  try {
    for (const extent of descriptor.extents) {
      const backing = parent ? { dev: parent, start } : null;
      const part = await openExtent(extent, path, opts, files, backing, caches);
      parts.push(part);
      start += part.size;
    }
  } catch (e) {
    await Promise.all([...files.values()].map((f) => f.close()));
    throw e;
  }
  return new ConcatDevice(path, parts, [descriptorFile, ...files.values(), ...(parent ? [parent] : [])]);
}

async function openExtent(
  extent: ExtentLine, path: string, opts: OpenOptions, files: Map<string, BlockDevice>, backing: Backing | null, caches: GrainCaches,
): Promise<BlockDevice> {
  const where = `VMDK descriptor line ${extent.line}`;
  const bytes = extent.sectors * BigInt(SECTOR);
  if (extent.type === 'ZERO' || extent.file === undefined) return new ZeroExtent(`${path} (ZERO extent, line ${extent.line})`, bytes);
  const filePath = opts.url ? resolveExtentUrl(extent.file, opts.url, path, where) : await resolveExtentPath(extent.file, path, where);
  let file = files.get(filePath);
  if (!file) {
    try {
      if (!opts.url) file = await RawFile.open(filePath, false);
      else if (opts.openBacking) file = await opts.openBacking(filePath, path, 'raw');
      else throw new DiskError(path, 'no opener for extent URLs', undefined, 'ENOTSUP');
    } catch (e) {
      if (e instanceof FormatNeededError) throw e;
      throw new DiskError(path, `${where}: cannot open extent file "${extent.file}": ${(e as DiskError).detail ?? (e as Error).message}`, undefined, (e as DiskError).code);
    }
    files.set(filePath, file);
  }
  if (extent.type === 'SPARSE') return SparseExtent.open(file, file.name, { sectors: extent.sectors, backing, caches });
  // FLAT and VMFS (vCenter's "-flat.vmdk"): a plain range of the file.
  const start = extent.fileOffset * BigInt(SECTOR);
  if (start + bytes > file.size) {
    throw new DiskError(path, `${where}: ${extent.type} extent "${extent.file}" is ${file.size} bytes, too small for ${extent.sectors} sectors from sector ${extent.fileOffset}`);
  }
  return new WindowDevice(file.name, file, start, bytes);
}
