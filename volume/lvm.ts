/**
 * LVM2: find PV labels on disks and partitions, read each PV's VG metadata, keep the newest
 * copy of each VG, and build its logical volumes over the PVs that are present. What cannot
 * be read (a missing PV, a thin, raid or snapshot LV, damaged metadata) is a warning naming it.
 */
import type { BlockDevice } from '../disk/block-device.js';
import { DiskError } from '../disk/errors.js';
import { ConfigSyntaxError, parseConfig } from './lvm-config.js';
import { dashedUuid, readPvLabel, type PvLabel } from './lvm-label.js';
import { readMetadataText } from './lvm-mda.js';
import { MetadataError, vgFromConfig, type VgLv, type VgMetadata, type VgPv } from './lvm-vg.js';
import { LogicalVolumeDevice, type LvSegment } from './lv-device.js';
import type { LogicalVolume, PhysicalVolume, VolumeGroup } from './types.js';

const SECTOR = 512n;

/** A disk or partition that may hold a PV, under its libguestfs name. */
export interface PvCandidate {
  name: string;
  device: BlockDevice;
  /** The image file the device lies on, so errors inside an LV can name it. */
  image: string;
}

export interface LvmScan {
  pvs: PhysicalVolume[];
  vgs: VolumeGroup[];
  lvs: LogicalVolume[];
}

interface FoundPv extends PvCandidate {
  label: PvLabel;
  uuid: string;
  vg?: VgMetadata;
}

export async function scanLvm(candidates: PvCandidate[], warnings: string[]): Promise<LvmScan> {
  const found: FoundPv[] = [];
  for (const c of candidates) {
    const pv = await probePv(c, warnings);
    if (pv) found.push(pv);
  }
  const byUuid = new Map<string, FoundPv>();
  for (const pv of found) {
    const other = byUuid.get(pv.uuid);
    if (other) warnings.push(`LVM: PV ${pv.uuid} is on both ${other.name} and ${pv.name}; using ${other.name}`);
    else byUuid.set(pv.uuid, pv);
  }
  // The newest metadata of each VG wins (a PV can hold an older copy).
  const vgs = new Map<string, VgMetadata>();
  for (const { vg } of byUuid.values()) {
    const seen = vg && vgs.get(vg.id);
    if (vg && (!seen || vg.seqno > seen.seqno)) vgs.set(vg.id, vg);
  }
  const scan: LvmScan = { pvs: [], vgs: [], lvs: [] };
  const owner = new Map<string, { vg: VgMetadata; pv: VgPv }>();
  const names = new Map<string, string>();
  for (const vg of vgs.values()) {
    for (const pv of vg.pvs) owner.set(pv.id, { vg, pv });
    // Two VGs of one name (disks of cloned guests) would give two /dev/NAME/LV of one name.
    const first = names.get(vg.name);
    if (first !== undefined) {
      warnings.push(`LVM: VG ${vg.name} (${vg.id}) has the name of VG ${first}; its LVs are skipped`);
      continue;
    }
    names.set(vg.name, vg.id);
    assembleVg(vg, byUuid, scan, warnings);
  }
  for (const pv of byUuid.values()) {
    const own = owner.get(pv.uuid);
    scan.pvs.push({
      name: pv.name,
      uuid: pv.uuid,
      vg: own?.vg.name ?? '',
      size: own ? own.pv.peCount * own.vg.extentSize * SECTOR : pv.label.deviceSize,
    });
  }
  return scan;
}

/** The PV on `c`, with the newest VG metadata among its metadata areas; damage is a warning. */
async function probePv(c: PvCandidate, warnings: string[]): Promise<FoundPv | undefined> {
  let label: PvLabel | undefined;
  try {
    label = await readPvLabel(c.device);
  } catch (e) {
    if (!(e instanceof DiskError)) throw e;
    warnings.push(e.message);
    return undefined;
  }
  if (!label) return undefined;
  const pv: FoundPv = { ...c, label, uuid: dashedUuid(label.uuid) };
  for (const area of label.metadataAreas) {
    try {
      const meta = await readMetadataText(c.device, area);
      if (!meta) continue;
      const vg = parseVg(c.device.name, meta.text, meta.at);
      if (!pv.vg || vg.seqno > pv.vg.seqno) pv.vg = vg;
    } catch (e) {
      if (!(e instanceof DiskError)) throw e;
      warnings.push(e.message);
    }
  }
  return pv;
}

function parseVg(image: string, text: string, at: bigint): VgMetadata {
  try {
    return vgFromConfig(parseConfig(text));
  } catch (e) {
    if (e instanceof ConfigSyntaxError || e instanceof MetadataError) throw new DiskError(image, `LVM metadata text: ${e.message}`, at);
    throw e;
  }
}

function assembleVg(vg: VgMetadata, byUuid: Map<string, FoundPv>, scan: LvmScan, warnings: string[]): void {
  const extent = vg.extentSize * SECTOR;
  const present = new Map<string, FoundPv>();
  for (const pv of vg.pvs) {
    const found = byUuid.get(pv.id);
    if (found) present.set(pv.key, found);
    else warnings.push(`LVM: VG ${vg.name} is missing PV ${pv.id}${pv.deviceHint ? ` (last seen as ${pv.deviceHint})` : ''}`);
  }
  const size = vg.pvs.reduce((sum, pv) => sum + pv.peCount, 0n) * extent;
  // Only striped segments own extents; thin, raid and snapshot LVs are built on hidden striped ones.
  const used = vg.lvs.flatMap((lv) => lv.segments).filter((s) => s.type === 'striped').reduce((sum, s) => sum + s.extentCount, 0n) * extent;
  scan.vgs.push({ name: vg.name, uuid: vg.id, size, free: size - used, pvs: [...present.values()].map((p) => p.name) });

  const snapshots = new Set(vg.lvs.flatMap((lv) => lv.segments)
    .filter((s) => s.type === 'snapshot')
    .map((s) => s.section.values.get('cow_store'))
    .filter((cow): cow is string => typeof cow === 'string'));
  for (const lv of vg.lvs) {
    const what = `LVM: LV ${vg.name}/${lv.name}`;
    if (snapshots.has(lv.name)) {
      warnings.push(`${what} is a snapshot, which is not supported; skipped`);
      continue;
    }
    if (!lv.visible) continue;
    const other = lv.segments.find((s) => s.type !== 'striped');
    if (other) {
      warnings.push(`${what} has a ${other.type} segment, which is not supported; skipped`);
      continue;
    }
    try {
      const segments = lvSegments(vg, lv, present);
      // Named as partitions are, "image (device)", so errors inside the LV name the files it lies on.
      const imageOf = new Map([...present.values()].map((p) => [p.device, p.image]));
      const images = [...new Set(segments.flatMap((s) => s.areas.map((a) => imageOf.get(a.device))))].join(', ');
      const device = new LogicalVolumeDevice(`${images} (/dev/${vg.name}/${lv.name})`, segments);
      scan.lvs.push({ name: `/dev/${vg.name}/${lv.name}`, vg: vg.name, lv: lv.name, uuid: lv.id, size: device.size, device });
    } catch (e) {
      if (!(e instanceof MetadataError)) throw e;
      warnings.push(`${what} ${e.message}; skipped`);
    }
  }
}

/** Byte-addressed segments of a striped/linear LV, every area checked against its PV. */
function lvSegments(vg: VgMetadata, lv: VgLv, present: Map<string, FoundPv>): LvSegment[] {
  const extent = vg.extentSize * SECTOR;
  const segments: LvSegment[] = [];
  let next = 0n;
  for (const seg of lv.segments) {
    if (seg.startExtent !== next) throw new MetadataError(`has a segment at extent ${seg.startExtent}, expected ${next}`);
    const n = BigInt(seg.stripes.length);
    if (seg.extentCount === 0n || seg.extentCount % n !== 0n) throw new MetadataError(`has a segment of ${seg.extentCount} extents over ${n} stripes`);
    const perArea = (seg.extentCount / n) * extent;
    const stripeSize = seg.stripeSize * SECTOR;
    if (n > 1n && (stripeSize === 0n || perArea % stripeSize !== 0n)) throw new MetadataError(`has stripe size ${stripeSize} bytes that does not divide its ${perArea}-byte areas`);
    const areas = seg.stripes.map((s) => {
      const pv = vg.pvs.find((p) => p.key === s.pv);
      if (!pv) throw new MetadataError(`refers to PV "${s.pv}", which the VG does not list`);
      const found = present.get(s.pv);
      if (!found) throw new MetadataError(`needs PV ${pv.id}${pv.deviceHint ? ` (last seen as ${pv.deviceHint})` : ''}, which is missing`);
      if (s.extent + seg.extentCount / n > pv.peCount) throw new MetadataError(`uses extents ${s.extent}+${seg.extentCount / n} of ${found.name}, which has ${pv.peCount}`);
      const offset = pv.peStart * SECTOR + s.extent * extent;
      if (offset + perArea > found.device.size) throw new MetadataError(`reaches past the end of ${found.device.name} (${found.device.size} bytes)`);
      return { device: found.device, offset };
    });
    segments.push({ start: next * extent, length: seg.extentCount * extent, stripeSize, areas });
    next += seg.extentCount;
  }
  if (segments.length === 0) throw new MetadataError('has no segments');
  return segments;
}
