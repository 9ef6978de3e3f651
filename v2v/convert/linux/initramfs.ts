/**
 * What an initramfs holds, read as the kernel unpacks it: uncompressed cpio archives (early
 * microcode) and NUL padding, then compressed streams of further archives (usually one). A
 * zstd stream's end is known from its frames, so more may follow; a gzip or xz stream is taken
 * to run to the end of the file (trailing NULs allowed). We keep the member names and any modules.builtin.
 */
import { isCpio, readCpio } from './cpio.js';
import { compressionAt, decompress } from './decompress.js';
import { InitramfsError } from './initramfs-error.js';

/** Real initramfs images decompress to well under this (firmware included). */
export const DECOMPRESSED_CAP = 1 << 30;
/** modules.builtin is a few tens of KiB. */
const BUILTIN_CAP = 1 << 20;

export interface InitramfsContents {
  /** Member paths, without a leading "./" or "/". */
  names: string[];
  /** The text of each modules.builtin found, by path. */
  builtin: Map<string, string>;
  /** "gzip", "zstd"… for each compressed stream; "cpio" for uncompressed archives, in order. */
  layers: string[];
}

/** Read an initramfs file's bytes; `where` names it in errors. */
export async function readInitramfs(data: Buffer, where: string, cap = DECOMPRESSED_CAP): Promise<InitramfsContents> {
  const out: InitramfsContents = { names: [], builtin: new Map(), layers: [] };
  const onEntry = (e: { name: string; data: Buffer }) => {
    const name = e.name.replace(/^(\.\/|\/)+/, '');
    out.names.push(name);
    if (/(^|\/)modules\.builtin$/.test(name) && e.data.length <= BUILTIN_CAP) out.builtin.set(name, e.data.toString('utf8'));
  };
  let at = skipZeros(data, 0);
  while (at < data.length) {
    if (isCpio(data, at)) {
      out.layers.push('cpio');
      at = skipZeros(data, readCpio(data, at, where, onEntry));
      continue;
    }
    const kind = compressionAt(data, at);
    if (!kind) throw new InitramfsError(where, 'archive', at, 'neither a cpio archive nor a known compressed stream');
    out.layers.push(kind);
    const { data: inner, used } = await decompress(kind, data.subarray(at), cap, where, at);
    // Inside a compressed stream the kernel accepts only archives and padding.
    const layer = `${where} (${kind} stream at offset ${at})`;
    for (let i = skipZeros(inner, 0); i < inner.length; i = skipZeros(inner, readCpio(inner, i, layer, onEntry)));
    // Where the stream's end is known, padding and further archives may follow, as the kernel reads them.
    if (used === undefined) break;
    at = skipZeros(data, at + used);
  }
  return out;
}

function skipZeros(buf: Buffer, at: number): number {
  while (at < buf.length && buf[at] === 0) at++;
  return at;
}
