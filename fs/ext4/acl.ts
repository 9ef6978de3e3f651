/**
 * POSIX ACLs: ext4 stores them compactly (version 1, 4-byte entries for the owner/group/mask/
 * other tags, 8-byte entries with an id for named users and groups); Linux's
 * system.posix_acl_* xattrs use version 2 with 8-byte entries throughout.
 */
const EXT4_ACL_VERSION = 1;
const XATTR_ACL_VERSION = 2;
const ACL_USER = 0x02;
const ACL_GROUP = 0x08;
const ACL_UNDEFINED_ID = 0xffffffff;
/** At most this many entries (the kernel's limit is 32 for a 4 KiB block, far less than this). */
const MAX_ENTRIES = 1024;

function hasId(tag: number): boolean {
  return tag === ACL_USER || tag === ACL_GROUP;
}

/** ext4's on-disk ACL to the Linux xattr format; null if it is malformed. */
export function aclFromDisk(v: Buffer): Buffer | null {
  if (v.length < 4 || v.readUInt32LE(0) !== EXT4_ACL_VERSION) return null;
  const out: Buffer[] = [Buffer.alloc(4)];
  out[0]!.writeUInt32LE(XATTR_ACL_VERSION);
  let off = 4;
  while (off < v.length) {
    if (off + 4 > v.length || out.length > MAX_ENTRIES) return null;
    const tag = v.readUInt16LE(off);
    const perm = v.readUInt16LE(off + 2);
    let id = ACL_UNDEFINED_ID;
    if (hasId(tag)) {
      if (off + 8 > v.length) return null;
      id = v.readUInt32LE(off + 4);
      off += 8;
    } else off += 4;
    const e = Buffer.alloc(8);
    e.writeUInt16LE(tag);
    e.writeUInt16LE(perm, 2);
    e.writeUInt32LE(id, 4);
    out.push(e);
  }
  return Buffer.concat(out);
}

/** The Linux xattr format to ext4's; null if malformed. */
export function aclToDisk(v: Uint8Array): Buffer | null {
  const b = Buffer.from(v);
  if (b.length < 4 || (b.length - 4) % 8 !== 0 || b.readUInt32LE(0) !== XATTR_ACL_VERSION) return null;
  const out: Buffer[] = [Buffer.alloc(4)];
  out[0]!.writeUInt32LE(EXT4_ACL_VERSION);
  for (let off = 4; off < b.length; off += 8) {
    const tag = b.readUInt16LE(off);
    const e = Buffer.alloc(hasId(tag) ? 8 : 4);
    e.writeUInt16LE(tag);
    e.writeUInt16LE(b.readUInt16LE(off + 2), 2);
    if (hasId(tag)) e.writeUInt32LE(b.readUInt32LE(off + 4), 4);
    out.push(e);
  }
  return Buffer.concat(out);
}
