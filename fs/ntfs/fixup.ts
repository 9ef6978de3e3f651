/**
 * Update sequence arrays ("fixups"): the last two bytes of every 512-byte stride of an MFT
 * or index record are replaced on disk by a sequence number, so a torn write shows.
 */
import { corrupt } from '../errors.js';

const STRIDE = 512;

/** Check and undo the fixups of `rec` in place. `what` names the record in errors. */
export function applyFixups(rec: Buffer, device: string, what: string, at: bigint): void {
  const usaOfs = rec.readUInt16LE(4);
  const usaCount = rec.readUInt16LE(6);
  const strides = rec.length / STRIDE;
  if (usaCount !== strides + 1) throw corrupt(device, what, `update sequence array has ${usaCount} entries, expected ${strides + 1}`, at);
  if (usaOfs < 8 || (usaOfs & 1) !== 0 || usaOfs + usaCount * 2 > STRIDE - 2) throw corrupt(device, what, `update sequence array at offset ${usaOfs} (${usaCount} entries) does not fit in the record`, at);
  const usn = rec.readUInt16LE(usaOfs);
  for (let i = 0; i < strides; i++) {
    const end = (i + 1) * STRIDE - 2;
    if (rec.readUInt16LE(end) !== usn) {
      throw corrupt(device, what, `update sequence mismatch in sector ${i} (torn or damaged record)`, at + BigInt(end));
    }
    rec.writeUInt16LE(rec.readUInt16LE(usaOfs + 2 + i * 2), end);
  }
}

/** Re-apply fixups before writing: bump the sequence number and stash the real bytes. */
export function protectFixups(rec: Buffer): Buffer {
  const out = Buffer.from(rec);
  const usaOfs = out.readUInt16LE(4);
  const strides = out.length / STRIDE;
  let usn = (out.readUInt16LE(usaOfs) + 1) & 0xffff;
  if (usn === 0 || usn === 0xffff) usn = 1;
  out.writeUInt16LE(usn, usaOfs);
  for (let i = 0; i < strides; i++) {
    const end = (i + 1) * STRIDE - 2;
    out.writeUInt16LE(out.readUInt16LE(end), usaOfs + 2 + i * 2);
    out.writeUInt16LE(usn, end);
  }
  return out;
}
