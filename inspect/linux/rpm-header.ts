/**
 * rpm's header blob, as rpmdb stores each installed package: an index of (tag, type, offset,
 * count) entries followed by a data store. Only the tags inspection reports are read.
 */
import type { Application } from '../os-info.js';

const TAG = { name: 1000, version: 1001, release: 1002, epoch: 1003, summary: 1004, description: 1005, vendor: 1011, url: 1020, arch: 1022, sourcerpm: 1044 };
const STRING = 6;
const INT32 = 4;
const I18NSTRING = 9;
/** rpm's own limits on a header (rpmtag.h: HEADER_TAGS_MAX, HEADER_DATA_MAX). */
const MAX_ENTRIES = 0xffff;
const MAX_DATA = 256 << 20;

export function parseRpmHeader(blob: Buffer, what: string): Application {
  if (blob.length < 8) throw new Error(`${what}: rpm header of ${blob.length} bytes`);
  const il = blob.readUInt32BE(0);
  const dl = blob.readUInt32BE(4);
  const data = 8 + il * 16;
  if (il > MAX_ENTRIES || dl > MAX_DATA || data + dl > blob.length) throw new Error(`${what}: rpm header says ${il} entries and ${dl} data bytes, but holds ${blob.length} bytes`);
  const tags = new Map<number, string | number>();
  for (let i = 0; i < il; i++) {
    const e = 8 + i * 16;
    const [tag, type, offset] = [blob.readUInt32BE(e), blob.readUInt32BE(e + 4), blob.readInt32BE(e + 8)];
    if (offset < 0 || offset >= dl) continue;
    const at = data + offset;
    if (type === STRING || type === I18NSTRING) {
      const end = blob.indexOf(0, at);
      tags.set(tag, blob.toString('utf8', at, end < 0 || end > data + dl ? data + dl : end));
    } else if (type === INT32 && offset + 4 <= dl) tags.set(tag, blob.readUInt32BE(at));
  }
  const str = (t: number) => {
    const v = tags.get(t);
    return typeof v === 'string' ? v : '';
  };
  const epoch = tags.get(TAG.epoch);
  return {
    name: str(TAG.name),
    epoch: typeof epoch === 'number' ? epoch : 0,
    version: str(TAG.version),
    release: str(TAG.release),
    arch: str(TAG.arch),
    ...(str(TAG.vendor) ? { publisher: str(TAG.vendor) } : {}),
    ...(str(TAG.url) ? { url: str(TAG.url) } : {}),
    ...(str(TAG.sourcerpm) ? { sourcePackage: str(TAG.sourcerpm).replace(/-[^-]+-[^-]+\.src\.rpm$/, '') } : {}),
    summary: str(TAG.summary),
    description: str(TAG.description),
  };
}
