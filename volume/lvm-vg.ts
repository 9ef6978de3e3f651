/**
 * VG metadata, from the parsed text: the VG's extent size, its PVs (by UUID) and its LVs,
 * each a list of segments. Field names follow lvm2's lib/format_text/import_vsn1.c.
 */
import { type ConfigSection, type ConfigValue } from './lvm-config.js';

export interface VgPv {
  /** The metadata's key for it ("pv0"), which segments refer to. */
  key: string;
  /** Dashed UUID, as in the label once dashes are added. */
  id: string;
  /** The device LVM last saw it on: a hint for messages only. */
  deviceHint: string;
  /** In 512-byte sectors. */
  peStart: bigint;
  peCount: bigint;
}

export interface VgSegment {
  startExtent: bigint;
  extentCount: bigint;
  type: string;
  /** In 512-byte sectors; 0 for a linear segment. */
  stripeSize: bigint;
  /** One area per stripe: a PV key and the first extent on it. */
  stripes: { pv: string; extent: bigint }[];
  /** The raw section, for types that are skipped but named (snapshot: cow_store). */
  section: ConfigSection;
}

export interface VgLv {
  name: string;
  id: string;
  visible: boolean;
  segments: VgSegment[];
}

export interface VgMetadata {
  name: string;
  id: string;
  seqno: bigint;
  /** In 512-byte sectors. */
  extentSize: bigint;
  pvs: VgPv[];
  lvs: VgLv[];
}

/** A missing or mistyped field: the path of the section and the key. */
export class MetadataError extends Error {}

/** The VG in a metadata text's top level: its one section (the rest are comments about the write). */
export function vgFromConfig(root: ConfigSection): VgMetadata {
  const entries = [...root.sections];
  if (entries.length !== 1) throw new MetadataError(`expected one VG section, found ${entries.length}`);
  const [name, vg] = entries[0]!;
  const extentSize = int(vg, 'extent_size', name);
  if (extentSize <= 0n) throw new MetadataError(`${name}/extent_size is ${extentSize}`);
  const pvs = [...section(vg, 'physical_volumes', name).sections].map(([key, pv]): VgPv => {
    const where = `${name}/physical_volumes/${key}`;
    const hint = pv.values.get('device');
    return {
      key,
      id: str(pv, 'id', where),
      deviceHint: typeof hint === 'string' ? hint : '',
      peStart: int(pv, 'pe_start', where),
      peCount: int(pv, 'pe_count', where),
    };
  });
  const lvSections = vg.sections.get('logical_volumes')?.sections ?? new Map<string, ConfigSection>();
  const lvs = [...lvSections].map(([lvName, lv]) => lvFromConfig(`${name}/${lvName}`, lvName, lv));
  return { name, id: str(vg, 'id', name), seqno: int(vg, 'seqno', name), extentSize, pvs, lvs };
}

function lvFromConfig(where: string, name: string, lv: ConfigSection): VgLv {
  const status = lv.values.get('status');
  const segments = [...lv.sections].filter(([key]) => /^segment\d+$/.test(key)).map(([key, seg]): VgSegment => {
    const at = `${where}/${key}`;
    const type = str(seg, 'type', at);
    const isStriped = type === 'striped';
    const stripes: VgSegment['stripes'] = [];
    if (isStriped) {
      const list = seg.values.get('stripes');
      if (!Array.isArray(list) || list.length === 0 || list.length % 2 !== 0) throw new MetadataError(`${at}/stripes is not a list of PV, extent pairs`);
      for (let i = 0; i < list.length; i += 2) {
        const pv = list[i];
        const extent = list[i + 1];
        if (typeof pv !== 'string' || typeof extent !== 'bigint' || extent < 0n) throw new MetadataError(`${at}/stripes entry ${i / 2} is not a PV and an extent`);
        stripes.push({ pv, extent });
      }
      const count = int(seg, 'stripe_count', at);
      if (count !== BigInt(stripes.length)) throw new MetadataError(`${at}/stripe_count is ${count} but ${stripes.length} stripes are listed`);
    }
    return {
      startExtent: int(seg, 'start_extent', at),
      extentCount: int(seg, 'extent_count', at),
      type,
      stripeSize: isStriped && stripes.length > 1 ? int(seg, 'stripe_size', at) : 0n,
      stripes,
      section: seg,
    };
  });
  segments.sort((a, b) => (a.startExtent < b.startExtent ? -1 : a.startExtent > b.startExtent ? 1 : 0));
  return { name, id: str(lv, 'id', where), visible: Array.isArray(status) && status.includes('VISIBLE'), segments };
}

function section(s: ConfigSection, key: string, where: string): ConfigSection {
  const sub = s.sections.get(key);
  if (!sub) throw new MetadataError(`${where} has no "${key}" section`);
  return sub;
}

function value(s: ConfigSection, key: string, where: string): ConfigValue {
  const v = s.values.get(key);
  if (v === undefined) throw new MetadataError(`${where} has no "${key}"`);
  return v;
}

function int(s: ConfigSection, key: string, where: string): bigint {
  const v = value(s, key, where);
  if (typeof v !== 'bigint' || v < 0n) throw new MetadataError(`${where}/${key} is not a non-negative integer`);
  return v;
}

function str(s: ConfigSection, key: string, where: string): string {
  const v = value(s, key, where);
  if (typeof v !== 'string') throw new MetadataError(`${where}/${key} is not a string`);
  return v;
}
