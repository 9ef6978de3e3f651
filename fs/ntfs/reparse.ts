/**
 * Reparse points. Symbolic links (0xA000000C) and junctions (0xA0000003) are shown as
 * symlinks; every other tag is left alone (shown as the file or directory it is, not
 * followed).
 */
export const REPARSE_TAG = { MOUNT_POINT: 0xa0000003, SYMLINK: 0xa000000c } as const;
const SYMLINK_RELATIVE = 1;

export interface LinkTarget {
  /** Relative links: path components from the link's directory ('..' allowed). */
  relative: boolean;
  /** A target that is neither relative nor on a drive (UNC, volume GUID): shown as is. */
  other?: string;
  /** Drive letter of an absolute target ("C"), if any. */
  drive?: string;
  parts: string[];
}

/** The target of a symlink/junction reparse buffer, or undefined for other tags or bad data. */
export function parseLinkTarget(b: Buffer): LinkTarget | undefined {
  if (b.length < 8) return undefined;
  const tag = b.readUInt32LE(0);
  const dataLen = b.readUInt16LE(4);
  if (8 + dataLen > b.length) return undefined;
  let pathStart: number;
  if (tag === REPARSE_TAG.SYMLINK) pathStart = 20;
  else if (tag === REPARSE_TAG.MOUNT_POINT) pathStart = 16;
  else return undefined;
  if (8 + dataLen < pathStart) return undefined;
  const subOfs = b.readUInt16LE(8);
  const subLen = b.readUInt16LE(10);
  const s = pathStart + subOfs;
  if (s + subLen > 8 + dataLen || (subLen & 1) !== 0) return undefined;
  const sub = b.toString('utf16le', s, s + subLen);
  if (tag === REPARSE_TAG.SYMLINK && (b.readUInt32LE(16) & SYMLINK_RELATIVE) !== 0) {
    return { relative: true, parts: sub.split('\\').filter((p) => p !== '' && p !== '.') };
  }
  const m = /^\\\?\?\\([A-Za-z]):\\?(.*)$/.exec(sub);
  if (!m) return { relative: false, parts: [], other: sub.replace(/\\/g, '/') };
  return { relative: false, drive: m[1]!.toUpperCase(), parts: m[2]!.split('\\').filter((p) => p !== '') };
}

/** The reparse tag of a reparse buffer. */
export function reparseTag(b: Buffer): number | undefined {
  return b.length >= 4 ? b.readUInt32LE(0) : undefined;
}
