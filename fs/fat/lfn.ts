/**
 * VFAT long-name entries (fatgen103 §7): up to 20 slots of 13 UTF-16 units each, stored
 * last part first before the short entry they belong to, tied to it by a checksum of the
 * short name. A run that is broken, out of order or whose checksum does not match is an
 * orphan and is ignored, as Windows and Linux do.
 */
import { ATTR, SLOT } from './dirent.js';

export const LFN_LAST = 0x40;
export const MAX_LFN_SLOTS = 20;
const CHARS_PER_SLOT = 13;
/** Byte offsets of the 13 UTF-16 units in a long-name slot. */
const UNIT_OFFSETS = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];
const O = { ord: 0, attr: 11, checksum: 13 } as const;

export function isLfnSlot(b: Buffer): boolean {
  return (b[O.attr]! & 0x3f) === ATTR.longName;
}

/** The checksum of an 11-byte short name that each of its long-name slots carries. */
export function lfnChecksum(name11: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < 11; i++) sum = (((sum & 1) << 7) + (sum >> 1) + name11[i]!) & 0xff;
  return sum;
}

/** Collects long-name slots as a directory is scanned, and hands out the name when a short entry matches. */
export class LfnCollector {
  private parts: string[] = [];
  private expect = 0;
  private checksum = -1;
  /** Slot index of the run's first slot. */
  start = -1;

  reset(): void {
    this.parts = [];
    this.expect = 0;
    this.checksum = -1;
    this.start = -1;
  }

  add(b: Buffer, index: number): void {
    const ord = b[O.ord]!;
    const seq = ord & 0x1f;
    if (ord & LFN_LAST) {
      this.reset();
      if (seq < 1 || seq > MAX_LFN_SLOTS) return;
      this.expect = seq;
      this.checksum = b[O.checksum]!;
      this.start = index;
    } else if (this.expect === 0 || seq !== this.expect - 1 || b[O.checksum] !== this.checksum || seq < 1) {
      this.reset();
      return;
    }
    this.expect = seq;
    this.parts.unshift(slotUnits(b));
  }

  /** The long name for the short entry `name11` if a complete run with its checksum preceded it. */
  take(name11: Uint8Array): { name: string; start: number } | undefined {
    const done = this.expect === 1 && this.checksum === lfnChecksum(name11);
    const out = done ? { name: this.parts.join(''), start: this.start } : undefined;
    this.reset();
    if (!out) return undefined;
    const end = out.name.indexOf('\0');
    const name = end < 0 ? out.name : out.name.slice(0, end);
    return name.length > 0 ? { name, start: out.start } : undefined;
  }
}

function slotUnits(b: Buffer): string {
  let s = '';
  for (const off of UNIT_OFFSETS) {
    const u = b.readUInt16LE(off);
    if (u === 0xffff) break;
    s += String.fromCharCode(u);
  }
  return s;
}

/** The long-name slots for `name`, in on-disk order (last part first). */
export function encodeLfn(name: string, name11: Uint8Array): Buffer[] {
  const sum = lfnChecksum(name11);
  const count = Math.ceil(name.length / CHARS_PER_SLOT);
  const slots: Buffer[] = [];
  for (let i = count; i >= 1; i--) {
    const b = Buffer.alloc(SLOT);
    b[O.ord] = i | (i === count ? LFN_LAST : 0);
    b[O.attr] = ATTR.longName;
    b[O.checksum] = sum;
    for (let k = 0; k < CHARS_PER_SLOT; k++) {
      const at = (i - 1) * CHARS_PER_SLOT + k;
      const u = at < name.length ? name.charCodeAt(at) : at === name.length ? 0 : 0xffff;
      b.writeUInt16LE(u, UNIT_OFFSETS[k]!);
    }
    slots.push(b);
  }
  return slots;
}

export function lfnSlotCount(name: string): number {
  return Math.ceil(name.length / CHARS_PER_SLOT);
}
