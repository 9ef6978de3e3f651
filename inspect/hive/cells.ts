/**
 * hbins and cells. After the base block the file is a run of hbins (each "hbin", its own offset,
 * a size that is a multiple of 4096), and each hbin is a run of cells: a signed 32-bit size
 * (negative when allocated) and the data. Records point at each other by cell offsets counted
 * from the first hbin; here every offset is a byte offset in the file.
 */
import { BASE_BLOCK_SIZE } from './base-block.js';
import { HiveError } from './errors.js';

export const HBIN_HEADER = 32;
const HBIN_OFFSET = 4;
const HBIN_SIZE = 8;
/** A cell offset field that points nowhere. */
export const NONE = 0xffffffff;

export class Cells {
  /** File offsets where each hbin starts, ascending, and where the last one ends. */
  readonly binStarts: number[] = [];
  end: number;

  constructor(
    /** The whole hive file; the writer replaces it when it appends hbins. */
    public buf: Buffer,
    readonly name: string,
    binsSize: number,
  ) {
    this.end = BASE_BLOCK_SIZE + binsSize;
    for (let at = BASE_BLOCK_SIZE; at < this.end; ) {
      const fail = (detail: string): never => {
        throw new HiveError(name, 'hbin', detail, at);
      };
      if (buf.toString('latin1', at, at + 4) !== 'hbin') fail('no "hbin" signature');
      if (buf.readUInt32LE(at + HBIN_OFFSET) !== at - BASE_BLOCK_SIZE) fail(`records offset 0x${buf.readUInt32LE(at + HBIN_OFFSET).toString(16)}, not 0x${(at - BASE_BLOCK_SIZE).toString(16)}`);
      const size = buf.readUInt32LE(at + HBIN_SIZE);
      if (size < 4096 || size % 4096 !== 0) fail(`size ${size} is not a positive multiple of 4096`);
      if (at + size > this.end) fail(`size ${size} runs past the end of the hbins at byte ${this.end}`);
      this.binStarts.push(at);
      at += size;
    }
  }

  /** The hbin holding file offset `at`: its start and end. */
  binOf(at: number): { start: number; end: number } | undefined {
    const s = this.binStarts;
    let lo = 0;
    let hi = s.length - 1;
    if (hi < 0 || at < s[0]! || at >= this.end) return undefined;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (s[mid]! <= at) lo = mid;
      else hi = mid - 1;
    }
    return { start: s[lo]!, end: lo + 1 < s.length ? s[lo + 1]! : this.end };
  }

  /** The file offset a cell-offset field names, or undefined for "none" (0xffffffff). */
  static target(field: number): number | undefined {
    return field === NONE ? undefined : BASE_BLOCK_SIZE + field;
  }

  /**
   * The data of the allocated cell at file offset `at`, checked to lie inside its hbin.
   * `what` names the structure expected there, for the error.
   */
  data(at: number, what: string): Buffer {
    const fail = (detail: string): never => {
      throw new HiveError(this.name, what, detail, at);
    };
    if (at % 4 !== 0) fail('cell offset is not a multiple of 4');
    const bin = this.binOf(at);
    if (!bin || at < bin.start + HBIN_HEADER || at + 4 > bin.end) fail(`cell offset is outside the hbins`);
    const raw = this.buf.readInt32LE(at);
    if (raw >= 0) fail('points to a free cell');
    const size = -raw;
    if (size < 8) fail(`cell size ${size} is too small`);
    if (at + size > bin!.end) fail(`cell size ${size} runs past its hbin (which ends at byte ${bin!.end})`);
    return this.buf.subarray(at + 4, at + size);
  }

  /** A cell's data that must start with a two-letter signature and hold `min` bytes. */
  record(at: number, what: string, signatures: readonly string[], min: number): Buffer {
    const d = this.data(at, what);
    const sig = d.toString('latin1', 0, 2);
    if (!signatures.includes(sig)) throw new HiveError(this.name, what, `signature "${printable(sig)}" is not ${signatures.map((s) => `"${s}"`).join(' or ')}`, at);
    if (d.length < min) throw new HiveError(this.name, what, `cell of ${d.length} bytes is shorter than the ${min} the record needs`, at);
    return d;
  }

  /** The file offset an offset field points at, with "none" refused. */
  pointer(field: number, what: string, from: number): number {
    const t = Cells.target(field);
    if (t === undefined) throw new HiveError(this.name, what, 'offset is missing (0xffffffff)', from);
    return t;
  }
}

function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '.');
}
