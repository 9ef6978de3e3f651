/**
 * Metadata files (VMX, OVF, libvirt XML) are small text: a file that is large or binary is
 * refused naming it before any parser sees it (users do pass a VMDK as the VMX).
 */
import { open } from 'node:fs/promises';
import { InputError } from './errors.js';

/** No VMX, OVF or domain XML comes near this; an OVA's disks are GBs, so the cap matters. */
export const MAX_METADATA_BYTES = 4 << 20;

/** Text of a metadata file of kind `what` ("VMX", "OVF"), bounded and checked not binary. */
export async function readMetadataFile(path: string, what: string): Promise<string> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw new InputError(path, `cannot open the ${what} file: ${(e as Error).message}`);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new InputError(path, `the ${what} file is not a regular file`);
    if (st.size > MAX_METADATA_BYTES) throw new InputError(path, `${st.size} bytes is too large for a ${what} file (at most ${MAX_METADATA_BYTES})`);
    const buf = Buffer.alloc(st.size);
    const { bytesRead } = await fh.read(buf, 0, st.size, 0);
    return metadataText(buf.subarray(0, bytesRead), path, what);
  } finally {
    await fh.close();
  }
}

/** `buf` as UTF-8 text, refused when it holds a NUL byte (a disk image, not metadata). */
export function metadataText(buf: Buffer, path: string, what: string): string {
  const nul = buf.indexOf(0);
  if (nul >= 0) throw new InputError(path, `not a ${what} file: binary data (a NUL byte)`, nul);
  return buf.toString('utf8');
}
