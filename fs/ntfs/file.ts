/**
 * A file as its base MFT record plus any extension records named by its $ATTRIBUTE_LIST:
 * attributes are looked up across all of them, and the extents of a non-resident attribute
 * spread over several records are merged into one runlist.
 */
import { corrupt } from '../errors.js';
import { AT, type AttrRecord } from './attribute.js';
import { RECORD_FLAG, type MftRecord } from './record.js';
import type { Attribute } from './stream.js';

export class NtfsFile {
  constructor(
    readonly device: string,
    readonly base: MftRecord,
    /** Base record first, then extension records. */
    readonly records: MftRecord[],
  ) {}

  get num(): number {
    return this.base.number;
  }

  get isDir(): boolean {
    return (this.base.flags & RECORD_FLAG.DIRECTORY) !== 0;
  }

  all(type: number): AttrRecord[] {
    const out: AttrRecord[] = [];
    for (const r of this.records) for (const a of r.attrs) if (a.type === type) out.push(a);
    return out;
  }

  /** Named streams of a type (e.g. the named $DATA streams). */
  names(type: number): string[] {
    return [...new Set(this.all(type).map((a) => a.name))];
  }

  has(type: number, name = ''): boolean {
    return this.all(type).some((a) => a.name === name);
  }

  /** The attribute `type`/`name` with its extents merged, or undefined. */
  find(type: number, name = ''): Attribute | undefined {
    const parts = this.all(type).filter((a) => a.name === name);
    if (parts.length === 0) return undefined;
    const what = `MFT record ${this.num} attribute 0x${type.toString(16)}${name ? ` "${name}"` : ''}`;
    if (parts.length === 1 || parts[0]!.resident) {
      const a = parts[0]!;
      if (parts.length > 1 && type !== AT.FILE_NAME) throw corrupt(this.device, what, 'resident attribute present more than once', this.base.at);
      return { ...a };
    }
    parts.sort((x, y) => x.startVcn - y.startVcn);
    const first = parts[0]!;
    if (first.startVcn !== 0) throw corrupt(this.device, what, `first extent starts at VCN ${first.startVcn}, not 0`, this.base.at);
    const runs = [];
    let next = 0;
    for (const p of parts) {
      if (p.resident || p.startVcn !== next) throw corrupt(this.device, what, `extent in record ${p.record} starts at VCN ${p.startVcn}, expected ${next}`, this.base.at);
      runs.push(...p.runs);
      next = p.lastVcn + 1;
    }
    return { ...first, runs, lastVcn: next - 1 } as Attribute;
  }

  /** The value of a resident attribute (refused if non-resident where resident is required). */
  residentValue(type: number, name = ''): Buffer | undefined {
    const a = this.find(type, name);
    if (!a) return undefined;
    if (!a.resident) throw corrupt(this.device, `MFT record ${this.num} attribute 0x${type.toString(16)}`, 'must be resident', this.base.at);
    return a.value;
  }
}
