/**
 * Extended attributes: entry tables in the inode (after i_extra_isize) and in one external
 * block (i_file_acl), names stored as a prefix index plus suffix.
 */
import { corrupt } from '../errors.js';

export const XATTR_MAGIC = 0xea020000;
export const XATTR_BLOCK_HEADER = 32;
const ENTRY_HEADER = 16;
/** Prefix of each name index. */
export const PREFIXES: Record<number, string> = {
  1: 'user.',
  2: 'system.posix_acl_access',
  3: 'system.posix_acl_default',
  4: 'trusted.',
  6: 'security.',
  7: 'system.',
  8: 'system.richacl',
};
export const INDEX_ACL_ACCESS = 2;
export const INDEX_ACL_DEFAULT = 3;
export const INDEX_SYSTEM = 7;

export interface Xattr {
  index: number;
  /** Name without the prefix. */
  name: string;
  value: Buffer;
  /** ea_inode: the value lives in this inode (and `value` is empty until read from it). */
  valueInum?: number;
  valueSize?: number;
}

/** Linux's largest xattr value (XATTR_SIZE_MAX): an EA inode's value is capped by it. */
export const XATTR_SIZE_MAX = 65536;

export function entrySize(nameLen: number): number {
  return (ENTRY_HEADER + nameLen + 3) & ~3;
}

/** Full name as listxattr shows it. */
export function fullName(x: { index: number; name: string }): string {
  return (PREFIXES[x.index] ?? `unknown${x.index}.`) + x.name;
}

/** Split a full name into index and suffix (longest prefix wins: system.posix_acl_* before system.). */
export function splitName(full: string): { index: number; name: string } | null {
  let best: { index: number; name: string } | null = null;
  let bestLen = -1;
  for (const [k, p] of Object.entries(PREFIXES)) {
    const exact = p.endsWith('.') ? full.startsWith(p) && full.length > p.length : full === p;
    if (exact && p.length > bestLen) {
      best = { index: Number(k), name: full.slice(p.length) };
      bestLen = p.length;
    }
  }
  return best;
}

/**
 * Parse an entry table starting at `entriesAt` in `buf`; values are at `valueBase + e_value_offs`
 * and must lie in [valueBase, buf.length).
 */
export function parseEntries(buf: Buffer, entriesAt: number, valueBase: number, dev: string, where: string): Xattr[] {
  const out: Xattr[] = [];
  let off = entriesAt;
  while (true) {
    if (off + 4 > buf.length) throw corrupt(dev, where, `xattr entry table runs off the end at offset ${off}`);
    if (buf.readUInt32LE(off) === 0) return out;
    if (off + ENTRY_HEADER > buf.length) throw corrupt(dev, where, `xattr entry at offset ${off} overruns its area`);
    const nameLen = buf.readUInt8(off);
    const index = buf.readUInt8(off + 1);
    const valueOffs = buf.readUInt16LE(off + 2);
    const valueInum = buf.readUInt32LE(off + 4);
    const valueSize = buf.readUInt32LE(off + 8);
    const size = entrySize(nameLen);
    if (off + size > buf.length) throw corrupt(dev, where, `xattr entry at offset ${off} name overruns its area`);
    const name = buf.subarray(off + ENTRY_HEADER, off + ENTRY_HEADER + nameLen).toString('latin1');
    if (valueInum !== 0) {
      if (valueSize > XATTR_SIZE_MAX) throw corrupt(dev, where, `xattr entry at offset ${off} has a ${valueSize}-byte value in inode ${valueInum}`);
      out.push({ index, name, value: Buffer.alloc(0), valueInum, valueSize });
      off += size;
      continue;
    }
    const vStart = valueBase + valueOffs;
    if (valueSize > 0 && (vStart < entriesAt || vStart + valueSize > buf.length)) {
      throw corrupt(dev, where, `xattr value of ${valueSize} bytes at offset ${vStart} is outside its area`);
    }
    out.push({ index, name, value: Buffer.from(buf.subarray(vStart, vStart + valueSize)) });
    off += size;
  }
}

const NAME_HASH_SHIFT = 5;
const VALUE_HASH_SHIFT = 16;
const BLOCK_HASH_SHIFT = 16;

/** e_hash of an entry (ext2fs_ext_attr_hash_entry). */
export function entryHash(name: Buffer, value: Buffer): number {
  let h = 0;
  for (const c of name) h = ((h << NAME_HASH_SHIFT) ^ (h >>> (32 - NAME_HASH_SHIFT)) ^ (c < 128 ? c : c - 256)) >>> 0;
  const padded = Buffer.alloc((value.length + 3) & ~3);
  value.copy(padded);
  for (let i = 0; i < padded.length; i += 4) h = ((h << VALUE_HASH_SHIFT) ^ (h >>> (32 - VALUE_HASH_SHIFT)) ^ padded.readUInt32LE(i)) >>> 0;
  return h;
}

/**
 * Lay out entries into `area` (entries from `entriesAt`, values packed from the end, value
 * offsets relative to `valueBase`). Returns false when they do not fit. Sorted as e2fsprogs
 * does for blocks (index, name length, name) so e2fsck finds them in order.
 */
export function layoutEntries(area: Buffer, entriesAt: number, valueBase: number, xattrs: Xattr[], sortForBlock: boolean): boolean {
  const list = sortForBlock
    ? [...xattrs].sort((a, b) => a.index - b.index || a.name.length - b.name.length || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    : xattrs;
  let need = 4;
  for (const x of list) need += entrySize(x.name.length) + ((x.value.length + 3) & ~3);
  if (entriesAt + need > area.length) return false;
  area.fill(0, entriesAt);
  let off = entriesAt;
  let vEnd = area.length;
  for (const x of list) {
    const name = Buffer.from(x.name, 'latin1');
    const vLen = (x.value.length + 3) & ~3;
    vEnd -= vLen;
    area.writeUInt8(name.length, off);
    area.writeUInt8(x.index, off + 1);
    area.writeUInt16LE(x.value.length ? vEnd - valueBase : 0, off + 2);
    area.writeUInt32LE(0, off + 4);
    area.writeUInt32LE(x.value.length, off + 8);
    area.writeUInt32LE(entryHash(name, x.value), off + 12);
    name.copy(area, off + ENTRY_HEADER);
    x.value.copy(area, vEnd);
    off += entrySize(name.length);
  }
  return true;
}

/** h_hash of an xattr block: a rotate-xor of the entries' hashes. */
export function blockHash(block: Buffer): number {
  let h = 0;
  for (let off = XATTR_BLOCK_HEADER; off + 4 <= block.length && block.readUInt32LE(off) !== 0; off += entrySize(block.readUInt8(off))) {
    const eh = block.readUInt32LE(off + 12);
    if (eh === 0) return 0;
    h = ((h << BLOCK_HASH_SHIFT) ^ (h >>> (32 - BLOCK_HASH_SHIFT)) ^ eh) >>> 0;
  }
  return h;
}
