/**
 * The text descriptor ("# Disk DescriptorFile"): key=value lines (version, CID, parentCID,
 * createType, parentFileNameHint, ddb.*) and extent lines such as
 *   RW 2048 FLAT "x-flat.vmdk" 0      access, size in sectors, type, file, sector offset
 *   RW 4192256 SPARSE "x-s001.vmdk"
 *   RW 1024 ZERO
 * It stands alone next to its extents, or is embedded in a monolithicSparse/streamOptimized
 * file. Its size and its number of extents are capped: the text comes from the image.
 */
import { DiskError } from '../errors.js';
import { MAX_CAPACITY_SECTORS } from './sparse-header.js';

export const DESCRIPTOR_SIGNATURE = '# Disk DescriptorFile';
export const MAX_DESCRIPTOR_BYTES = 64 << 10;
export const MAX_EXTENTS = 4096;

export type ExtentType = 'FLAT' | 'VMFS' | 'SPARSE' | 'ZERO';
const SUPPORTED: readonly string[] = ['FLAT', 'VMFS', 'SPARSE', 'ZERO'];
const UNSUPPORTED: Record<string, string> = {
  VMFSSPARSE: 'ESX snapshot (COWD) extents are not supported',
  SESPARSE: 'ESX SE sparse extents are not supported',
  VMFSRDM: 'raw device mappings name host devices and are not supported',
  VMFSRAW: 'raw device mappings name host devices and are not supported',
};

export interface ExtentLine {
  access: string;
  sectors: bigint;
  type: ExtentType;
  /** File name as written (relative to the descriptor); absent for ZERO. */
  file?: string;
  /** Sector offset into the file (FLAT/VMFS). */
  fileOffset: bigint;
  /** 1-based line number, for messages. */
  line: number;
}

export interface Descriptor {
  fields: Map<string, string>;
  extents: ExtentLine[];
}

const EXTENT_LINE = /^(RW|RDONLY|NOACCESS)\s+(\d+)\s+([A-Z]+)(?:\s+"([^"]*)"(?:\s+(\d+))?)?$/;
const FIELD_LINE = /^([A-Za-z0-9_.]+)\s*=\s*(.*)$/;

/** True when `text` starts like a descriptor (leading blank lines are allowed). */
export function isDescriptorText(head: Buffer): boolean {
  return head.subarray(0, 512).toString('latin1').trimStart().startsWith(DESCRIPTOR_SIGNATURE);
}

export function parseDescriptor(buf: Buffer, image: string): Descriptor {
  if (buf.length > MAX_DESCRIPTOR_BYTES) throw new DiskError(image, `VMDK descriptor of ${buf.length} bytes is larger than ${MAX_DESCRIPTOR_BYTES}`);
  // Embedded descriptors are padded with NULs to their reserved size.
  const nul = buf.indexOf(0);
  const text = buf.subarray(0, nul < 0 ? buf.length : nul).toString('utf8');
  if (!text.trimStart().startsWith(DESCRIPTOR_SIGNATURE)) throw new DiskError(image, `VMDK descriptor does not start with "${DESCRIPTOR_SIGNATURE}"`);
  const fields = new Map<string, string>();
  const extents: ExtentLine[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const where = `VMDK descriptor line ${i + 1}`;
    if (/^(RW|RDONLY|NOACCESS)\s/.test(line)) {
      if (extents.length >= MAX_EXTENTS) throw new DiskError(image, `${where}: more than ${MAX_EXTENTS} extents`);
      extents.push(parseExtent(line, i + 1, image, where));
      continue;
    }
    const m = FIELD_LINE.exec(line);
    // Other lines are ignored, as VMware and qemu do.
    if (m) fields.set(m[1]!, unquote(m[2]!.trim()));
  }
  const total = extents.reduce((sum, e) => sum + e.sectors, 0n);
  if (total > MAX_CAPACITY_SECTORS) throw new DiskError(image, `VMDK descriptor's extents add up to ${total} sectors, more than ${MAX_CAPACITY_SECTORS}`);
  return { fields, extents };
}

function parseExtent(line: string, lineNo: number, image: string, where: string): ExtentLine {
  const m = EXTENT_LINE.exec(line);
  if (!m) throw new DiskError(image, `${where}: extent line not understood: ${JSON.stringify(line.slice(0, 120))}`);
  const type = m[3]!;
  if (!SUPPORTED.includes(type)) throw new DiskError(image, `${where}: ${UNSUPPORTED[type] ?? `extent type ${type} is not supported`}`);
  const file = m[4];
  if (type === 'ZERO' ? file !== undefined : file === undefined) {
    throw new DiskError(image, `${where}: a ${type} extent ${type === 'ZERO' ? 'names no file' : 'needs a file name'}`);
  }
  const fileOffset = BigInt(m[5] ?? '0');
  if (type === 'SPARSE' && fileOffset !== 0n) throw new DiskError(image, `${where}: a SPARSE extent cannot start at sector ${fileOffset} of its file`);
  return { access: m[1]!, sectors: BigInt(m[2]!), type: type as ExtentType, file, fileOffset, line: lineNo };
}

function unquote(v: string): string {
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}
