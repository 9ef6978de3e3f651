/**
 * A small, bounded ISO 9660 reader (ECMA-119): the volume descriptors from sector 16, then the
 * directory tree from the root record. Names come from the Joliet supplementary descriptor
 * when there is one (UCS-2 names as Windows burns them), else from Rock Ridge NM entries,
 * else the plain ISO names without their ";1" version. Everything read from the image is
 * checked against the image's size before use, directories are walked once each (extents
 * cannot loop), and depth, entry count and sizes are capped. Errors name the image, the
 * structure and its byte offset.
 */
import type { BlockDevice } from '../../../../disk/block-device.js';

export class IsoError extends Error {
  constructor(image: string, structure: string, detail: string, offset: number) {
    super(`${image}: ISO 9660 ${structure}: ${detail} (at byte ${offset})`);
    this.name = 'IsoError';
  }
}

export interface IsoFile {
  /** '/'-separated path from the root. */
  path: string;
  /** Byte offset of the data in the image, and its length. */
  offset: number;
  size: number;
}

export interface IsoLimits {
  files: number;
  depth: number;
  /** Bytes of one directory's records. */
  directorySize: number;
}

const SECTOR = 2048;
const FIRST_DESCRIPTOR = 16;
/** Descriptors before the set terminator: real images have 2–4. */
const MAX_DESCRIPTORS = 64;
const FLAG_DIRECTORY = 0x02;
const FLAG_MULTI_EXTENT = 0x80;
const JOLIET_ESCAPES = ['%/@', '%/C', '%/E'];

interface Root {
  kind: 'primary' | 'joliet';
  blockSize: number;
  record: Buffer;
  offset: number;
}

export class Iso9660 {
  private constructor(
    private readonly dev: BlockDevice,
    private readonly name: string,
    private readonly size: number,
    private readonly root: Root,
  ) {}

  static async open(dev: BlockDevice, name: string): Promise<Iso9660> {
    if (dev.size > BigInt(Number.MAX_SAFE_INTEGER)) throw new IsoError(name, 'image', `size ${dev.size} is past 2^53 bytes`, 0);
    const size = Number(dev.size);
    let primary: Root | undefined;
    let joliet: Root | undefined;
    for (let i = 0; ; i++) {
      const at = (FIRST_DESCRIPTOR + i) * SECTOR;
      if (i >= MAX_DESCRIPTORS) throw new IsoError(name, 'volume descriptor set', `no terminator in the first ${MAX_DESCRIPTORS} descriptors`, at);
      if (at + SECTOR > size) {
        throw new IsoError(name, 'volume descriptor', i === 0 ? `the image (${size} bytes) ends before the first descriptor: not an ISO image` : 'the image ends before the set terminator', at);
      }
      const d = await dev.read(BigInt(at), SECTOR);
      if (d.toString('latin1', 1, 6) !== 'CD001') {
        throw new IsoError(name, 'volume descriptor', i === 0 ? 'no "CD001" identifier: not an ISO image' : `no "CD001" identifier in descriptor ${i}`, at + 1);
      }
      const type = d[0]!;
      if (type === 255) break;
      if (type !== 1 && type !== 2) continue;
      const blockSize = d.readUInt16LE(128);
      if (blockSize !== 512 && blockSize !== 1024 && blockSize !== 2048) {
        throw new IsoError(name, 'volume descriptor', `logical block size ${blockSize} is not 512, 1024 or 2048`, at + 128);
      }
      const root = { blockSize, record: Buffer.from(d.subarray(156, 190)), offset: at + 156 };
      if (type === 1) primary ??= { kind: 'primary', ...root };
      else if (JOLIET_ESCAPES.includes(d.toString('latin1', 88, 91))) joliet ??= { kind: 'joliet', ...root };
    }
    const root = joliet ?? primary;
    if (!root) throw new IsoError(name, 'volume descriptor set', 'no primary volume descriptor', FIRST_DESCRIPTOR * SECTOR);
    return new Iso9660(dev, name, size, root);
  }

  /** Whether names come from Joliet. */
  get joliet(): boolean {
    return this.root.kind === 'joliet';
  }

  /** Every file below the root, depth first, in directory order. */
  async files(limits: IsoLimits): Promise<IsoFile[]> {
    const out: IsoFile[] = [];
    const seen = new Set<number>();
    const walk = async (record: Record, path: string, depth: number): Promise<void> => {
      if (depth > limits.depth) throw new IsoError(this.name, 'directory', `${path || '/'}: nested deeper than ${limits.depth}`, record.at);
      if (seen.has(record.offset)) throw new IsoError(this.name, 'directory', `${path || '/'}: its extent at byte ${record.offset} is already part of the tree (a loop)`, record.at);
      seen.add(record.offset);
      if (record.size > limits.directorySize) throw new IsoError(this.name, 'directory', `${path || '/'}: ${record.size} bytes of records, more than ${limits.directorySize}`, record.at);
      const data = await this.dev.read(BigInt(record.offset), record.size);
      for (const child of this.records(data, record.offset)) {
        const childPath = path === '' ? child.name : `${path}/${child.name}`;
        if (child.directory) {
          await walk(child, childPath, depth + 1);
        } else {
          if (out.length >= limits.files) throw new IsoError(this.name, 'directory', `more than ${limits.files} files`, child.at);
          out.push({ path: childPath, offset: child.offset, size: child.size });
        }
      }
    };
    const root = this.parse(this.root.record, 0, this.root.offset, true);
    if (!root?.directory) throw new IsoError(this.name, 'root directory record', 'not a directory', this.root.offset);
    await walk(root, '', 0);
    return out;
  }

  async read(file: IsoFile): Promise<Buffer> {
    return this.dev.read(BigInt(file.offset), file.size);
  }

  /** The records of one directory's data (at byte `base`), without "." and "..". */
  private *records(data: Buffer, base: number): Generator<Record> {
    let pos = 0;
    while (pos < data.length) {
      if (data[pos] === 0) {
        // Records never cross a sector: a zero length pads to the next one.
        pos = (Math.floor(pos / SECTOR) + 1) * SECTOR;
        continue;
      }
      const r = this.parse(data, pos, base + pos, false);
      pos += data[pos]!;
      if (r) yield r;
    }
  }

  /** The record at `pos` of `buf` (at image byte `at`); undefined for "." and "..". */
  private parse(buf: Buffer, pos: number, at: number, isRoot: boolean): Record | undefined {
    const len = buf[pos]!;
    if (len < 34 || pos + len > buf.length) throw new IsoError(this.name, 'directory record', `length ${len} does not fit (needs 34 to ${buf.length - pos})`, at);
    const nameLen = buf[pos + 32]!;
    if (33 + nameLen > len) throw new IsoError(this.name, 'directory record', `name of ${nameLen} bytes overruns the ${len}-byte record`, at + 32);
    const flags = buf[pos + 25]!;
    const raw = buf.subarray(pos + 33, pos + 33 + nameLen);
    if (!isRoot && nameLen === 1 && raw[0]! <= 1) return undefined;
    if (flags & FLAG_MULTI_EXTENT) throw new IsoError(this.name, 'directory record', 'a file in several extents (over 4 GiB) is not supported', at + 25);
    const extent = buf.readUInt32LE(pos + 2);
    const size = buf.readUInt32LE(pos + 10);
    const offset = extent * this.root.blockSize;
    if (offset + size > this.size) {
      throw new IsoError(this.name, 'directory record', `extent at block ${extent} with ${size} bytes runs past the image's end (${this.size} bytes)`, at + 2);
    }
    const directory = (flags & FLAG_DIRECTORY) !== 0;
    const name = isRoot ? '' : this.nameOf(raw, buf.subarray(pos + 33 + nameLen + ((nameLen & 1) ^ 1), pos + len), directory, at);
    return { name, directory, offset, size, at };
  }

  private nameOf(raw: Buffer, systemUse: Buffer, directory: boolean, at: number): string {
    let name: string;
    if (this.root.kind === 'joliet') {
      if (raw.length & 1) throw new IsoError(this.name, 'directory record', 'Joliet name of odd length', at + 32);
      name = Buffer.from(raw).swap16().toString('utf16le');
    } else {
      name = rockRidgeName(systemUse) ?? raw.toString('latin1');
    }
    if (!directory) name = name.replace(/;\d*$/, '').replace(/\.$/, '');
    if (name === '' || name === '.' || name === '..' || /[/\0]/.test(name)) {
      throw new IsoError(this.name, 'directory record', `file name ${JSON.stringify(name)} cannot be used`, at + 33);
    }
    return name;
  }
}

interface Record {
  name: string;
  directory: boolean;
  /** Byte offset of the data, its length, and the byte offset of the record itself. */
  offset: number;
  size: number;
  at: number;
}

/** The Rock Ridge NM (alternate name) entries of a record's system use area, joined; undefined without any. */
function rockRidgeName(su: Buffer): string | undefined {
  let name: string | undefined;
  for (let pos = 0; pos + 4 <= su.length; ) {
    const len = su[pos + 2]!;
    if (len < 4 || pos + len > su.length) break;
    if (su.toString('latin1', pos, pos + 2) === 'NM' && len >= 5) {
      const flags = su[pos + 4]!;
      // CURRENT and PARENT flags name "." and ".."; those records are skipped already.
      if ((flags & 0x06) === 0) name = (name ?? '') + su.toString('utf8', pos + 5, pos + len);
    }
    pos += len;
  }
  return name;
}
