/**
 * Writes a streamOptimized VMDK the way VMware does when it streams (OVA export): header
 * with gdOffset = GD_AT_END, grains as markers plus zlib data, each grain table after its
 * grains behind a GT marker, then GD marker + GD, footer marker + footer, end-of-stream.
 * qemu-img only writes the GD up front, so this is how tests get the footer layout; qemu-img
 * reads these files and is the reference for what they contain.
 */
import { deflateSync } from 'node:zlib';

const SECTOR = 512;

export interface StreamOptions {
  grainSectors?: number;
  gtesPerGt?: number;
  /** Replace a grain's compressed bytes (for corrupt-input tests). */
  mangle?: (grain: number, data: Buffer) => Buffer;
}

function header(capacity: number, grainSectors: number, gtes: number, descSectors: number, gdOffset: bigint): Buffer {
  const h = Buffer.alloc(SECTOR);
  h.write('KDMV', 0, 'latin1');
  h.writeUInt32LE(3, 4);
  h.writeUInt32LE(0x30001, 8); // newline test, compressed grains, markers
  h.writeBigUInt64LE(BigInt(capacity), 12);
  h.writeBigUInt64LE(BigInt(grainSectors), 20);
  h.writeBigUInt64LE(1n, 28);
  h.writeBigUInt64LE(BigInt(descSectors), 36);
  h.writeUInt32LE(gtes, 44);
  h.writeBigUInt64LE(0n, 48);
  h.writeBigUInt64LE(gdOffset, 56);
  h.writeBigUInt64LE(BigInt(1 + descSectors), 64);
  h.write('\n \r\n', 73, 'latin1');
  h.writeUInt16LE(1, 77);
  return h;
}

function marker(numSectors: number, type: number): Buffer {
  const m = Buffer.alloc(SECTOR);
  m.writeBigUInt64LE(BigInt(numSectors), 0);
  m.writeUInt32LE(type, 12);
  return m;
}

function padded(buf: Buffer): Buffer {
  const rem = buf.length % SECTOR;
  return rem === 0 ? buf : Buffer.concat([buf, Buffer.alloc(SECTOR - rem)]);
}

export function vmwareStream(raw: Buffer, opts: StreamOptions = {}): Buffer {
  const grainSectors = opts.grainSectors ?? 128;
  const gtes = opts.gtesPerGt ?? 512;
  const grainBytes = grainSectors * SECTOR;
  const capacity = Math.ceil(raw.length / SECTOR);
  const grains = Math.ceil(capacity / grainSectors);
  const tables = Math.ceil(grains / gtes);
  const desc = padded(Buffer.from(`# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\ncreateType="streamOptimized"\n\nRW ${capacity} SPARSE "disk.vmdk"\n`));
  const parts: Buffer[] = [header(capacity, grainSectors, gtes, desc.length / SECTOR, 0xffffffffffffffffn), desc];
  let sector = 1 + desc.length / SECTOR;
  const push = (b: Buffer) => {
    parts.push(b);
    sector += b.length / SECTOR;
  };
  const gd = Buffer.alloc(tables * 4);
  for (let t = 0; t < tables; t++) {
    const gt = Buffer.alloc(gtes * 4);
    let used = false;
    for (let i = 0; i < gtes; i++) {
      const g = t * gtes + i;
      if (g >= grains) break;
      const data = Buffer.alloc(grainBytes);
      raw.copy(data, 0, g * grainBytes, Math.min(raw.length, (g + 1) * grainBytes));
      if (data.every((b) => b === 0)) continue;
      let z: Buffer = deflateSync(data);
      if (opts.mangle) z = opts.mangle(g, z);
      const m = Buffer.alloc(12);
      m.writeBigUInt64LE(BigInt(g * grainSectors), 0);
      m.writeUInt32LE(z.length, 8);
      gt.writeUInt32LE(sector, i * 4);
      push(padded(Buffer.concat([m, z])));
      used = true;
    }
    if (!used) continue;
    const gtBuf = padded(gt);
    push(marker(gtBuf.length / SECTOR, 1));
    gd.writeUInt32LE(sector, t * 4);
    push(gtBuf);
  }
  const gdBuf = padded(gd);
  push(marker(gdBuf.length / SECTOR, 2));
  const gdSector = sector;
  push(gdBuf);
  push(marker(1, 3));
  push(header(capacity, grainSectors, gtes, desc.length / SECTOR, BigInt(gdSector)));
  push(marker(0, 0));
  return Buffer.concat(parts);
}
