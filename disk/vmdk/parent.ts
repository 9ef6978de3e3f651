/**
 * Parent (snapshot) disks. A child's descriptor names its parent with parentFileNameHint and
 * the parent's content ID with parentCID; grains the child never wrote read from the parent.
 * The parent is opened through `openDisk`'s backing hook (read-only, relative names next to
 * the child, loops and over-deep chains refused), and its CID must be the one the child
 * expects, or the child was written against a different disk. `openDisk` refuses the parent
 * when the child's format was only probed.
 */
import type { BlockDevice } from '../block-device.js';
import { DiskError } from '../errors.js';
import type { OpenOptions } from '../format.js';
import type { Descriptor } from './descriptor.js';

const NO_PARENT = 0xffffffff;

/** Content IDs of the disks this driver opened, so a child can check its parent's. */
const cids = new WeakMap<BlockDevice, number>();

/** A CID field as the 32-bit number it is: tools write it with and without leading zeros. */
function cidOf(field: string | undefined): number | undefined {
  return field !== undefined && /^[0-9a-f]{1,8}$/i.test(field) ? parseInt(field, 16) : undefined;
}

const hex = (cid: number) => cid.toString(16).padStart(8, '0');

export function rememberCid<T extends BlockDevice>(dev: T, d: Descriptor | null): T {
  const cid = cidOf(d?.fields.get('CID'));
  if (cid !== undefined) cids.set(dev, cid);
  return dev;
}

/** The opened parent disk, or null when the descriptor names none. */
export async function openParent(d: Descriptor | null, path: string, opts: OpenOptions): Promise<BlockDevice | null> {
  const parentCid = cidOf(d?.fields.get('parentCID'));
  const hint = d?.fields.get('parentFileNameHint');
  // parentCID=ffffffff says "no parent": a stale parentFileNameHint beside it names no file to open.
  if (!d || parentCid === NO_PARENT || (parentCid === undefined && !hint)) return null;
  if (!hint) throw new DiskError(path, `VMDK descriptor has parentCID=${hex(parentCid!)} but no parentFileNameHint naming the parent`);
  if (!opts.openBacking) throw new DiskError(path, `VMDK parent "${hint}" cannot be opened here (no backing-file opener)`, undefined, 'ENOTSUP');
  let parent: BlockDevice;
  try {
    parent = await opts.openBacking(hint, path, 'vmdk');
  } catch (e) {
    const err = e as Error & { code?: string };
    throw new DiskError(path, `cannot open VMDK parent "${hint}": ${err.message}`, undefined, err.code ?? 'EIO', { cause: e });
  }
  const actual = cids.get(parent);
  if (parentCid !== undefined && actual !== undefined && actual !== parentCid) {
    await parent.close();
    throw new DiskError(path, `VMDK parent "${hint}" has CID ${hex(actual)}, but this disk was written against parentCID ${hex(parentCid)}`);
  }
  return parent;
}
