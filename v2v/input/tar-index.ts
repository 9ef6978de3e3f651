/**
 * The members of a tar file (an OVA), read in place: OVAs are tens of GB, so nothing is
 * extracted; a member is a byte range of the file. Reads ustar headers (POSIX and GNU
 * magic), checks each header's checksum, sizes in octal or GNU base-256, `prefix` names, GNU
 * `L` long names and pax `x` records (path, size). Bounded: at most MAX_ENTRIES members,
 * long names and pax headers at most 64 KiB; a member running past the end is an error.
 */
import type { BlockDevice } from '../../disk/block-device.js';
import { InputError } from './errors.js';

const BLOCK = 512;
const MAX_ENTRIES = 10_000;
const MAX_META = 64 << 10;

export interface TarEntry {
  name: string;
  /** Where the member's bytes start in the tar. */
  offset: bigint;
  size: bigint;
}

export async function readTarIndex(tar: BlockDevice, file: string): Promise<TarEntry[]> {
  const entries: TarEntry[] = [];
  let longName: string | undefined;
  let pax: Map<string, string> | undefined;
  let at = 0n;
  for (let count = 0; ; count++) {
    if (at === tar.size) break; // no end-of-archive blocks: GNU tar accepts that too
    if (at + BigInt(BLOCK) > tar.size) throw new InputError(file, `tar file is truncated: a partial header of ${tar.size - at} bytes`, at);
    if (count >= MAX_ENTRIES) throw new InputError(file, `tar file has more than ${MAX_ENTRIES} members`, at);
    const h = await tar.read(at, BLOCK);
    if (h.every((b) => b === 0)) break; // end of archive
    checkHeader(h, file, at);
    const size = pax?.get('size') !== undefined ? paxSize(pax.get('size')!, file, at) : headerSize(h, file, at);
    const data = at + BigInt(BLOCK);
    if (data + size > tar.size) {
      throw new InputError(file, `tar file is truncated: member "${longName ?? pax?.get('path') ?? headerName(h)}" of ${size} bytes runs past the end of the file (${tar.size} bytes)`, at);
    }
    const type = String.fromCharCode(h[156]!);
    if (type === 'L' || type === 'x') {
      if (size > BigInt(MAX_META)) throw new InputError(file, `tar ${type === 'L' ? 'GNU long name' : 'pax header'} of ${size} bytes (at most ${MAX_META})`, at);
      const meta = await tar.read(data, Number(size));
      if (type === 'L') longName = cString(meta);
      else pax = parsePax(meta, file, at);
    } else {
      if (type === '0' || type === '\0' || type === '7') {
        const name = (pax?.get('path') ?? longName ?? headerName(h)).replace(/^(\.\/)+/, '');
        entries.push({ name, offset: data, size });
      }
      longName = undefined;
      pax = undefined;
    }
    at = data + ((size + BigInt(BLOCK - 1)) / BigInt(BLOCK)) * BigInt(BLOCK);
  }
  return entries;
}

function checkHeader(h: Buffer, file: string, at: bigint): void {
  const magic = h.toString('latin1', 257, 262);
  if (magic !== 'ustar') throw new InputError(file, 'not a tar file (no "ustar" magic in the header)', at + 257n);
  const stored = octal(h.subarray(148, 156));
  // The sum treats the checksum field as spaces; old tars summed signed bytes.
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : h[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  if (stored === undefined || (BigInt(unsigned) !== stored && BigInt(signed) !== stored)) {
    const field = h.toString('latin1', 148, 156).replace(/[\0 ]/g, '');
    throw new InputError(file, `tar header checksum ${field || '(empty)'} (octal) does not match its bytes (sum ${unsigned.toString(8).padStart(6, '0')})`, at + 148n);
  }
}

function headerName(h: Buffer): string {
  const name = cString(h.subarray(0, 100));
  const prefix = cString(h.subarray(345, 500));
  return prefix ? `${prefix}/${name}` : name;
}

function headerSize(h: Buffer, file: string, at: bigint): bigint {
  const field = h.subarray(124, 136);
  if (field[0]! & 0x80) {
    // GNU base-256: big-endian, the top bit of the first byte only marks the encoding.
    let n = BigInt(field[0]! & 0x7f);
    for (const b of field.subarray(1)) n = (n << 8n) | BigInt(b);
    return n;
  }
  const n = octal(field);
  if (n === undefined) throw new InputError(file, `tar header size "${field.toString('latin1').replace(/\0/g, '')}" is not an octal number`, at + 124n);
  return n;
}

function octal(field: Buffer): bigint | undefined {
  const s = field.toString('latin1').replace(/[\0 ]+$/, '').replace(/^ +/, '');
  return /^[0-7]+$/.test(s) ? BigInt(`0o${s}`) : s === '' ? 0n : undefined;
}

function paxSize(value: string, file: string, at: bigint): bigint {
  if (!/^\d{1,20}$/.test(value)) throw new InputError(file, `pax size "${value}" is not a number`, at);
  return BigInt(value);
}

/** pax records: "LEN key=value\n", LEN counting the whole record. */
function parsePax(buf: Buffer, file: string, at: bigint): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  while (i < buf.length && buf[i] !== 0) {
    const space = buf.indexOf(0x20, i);
    const len = space > i ? Number(buf.toString('latin1', i, space)) : NaN;
    if (!Number.isInteger(len) || len <= space - i || i + len > buf.length) throw new InputError(file, 'pax header record is malformed', at);
    const record = buf.toString('utf8', space + 1, i + len - 1);
    const eq = record.indexOf('=');
    if (eq > 0) out.set(record.slice(0, eq), record.slice(eq + 1));
    i += len;
  }
  return out;
}

function cString(b: Buffer): string {
  const nul = b.indexOf(0);
  return b.toString('utf8', 0, nul < 0 ? b.length : nul);
}
