/**
 * Making LVM test images with the real lvm2 tools. There is no device-mapper here, so every
 * command runs with `--driverloaded n` (metadata is written, nothing is activated), against
 * loop devices over the image files, under a private LVM_SYSTEM_DIR so no host state leaks in.
 * What `pvs`/`vgs`/`lvs` report is saved with the images, loop names replaced by disk names.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RawFile } from '../../disk/raw.js';
import { FIXTURE_DIR } from '../fixtures/cache.js';
import { run } from '../fixtures/run.js';

const LVM_CONF = `devices { use_devicesfile = 0 obtain_device_list_from_udev = 0 write_cache_state = 0 hints = "none" }
global { event_activation = 0 }
activation { udev_sync = 0 udev_rules = 0 monitoring = 0 }
backup { backup = 0 archive = 0 }
`;

async function lvmEnv(): Promise<NodeJS.ProcessEnv> {
  const dir = join(FIXTURE_DIR, 'lvm-system');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'lvm.conf'), LVM_CONF);
  return { ...process.env, LVM_SYSTEM_DIR: dir, LVM_SUPPRESS_FD_WARNINGS: '1' };
}

/** Run an lvm2 command seeing only `devices`, with activation off. */
export async function lvm(cmd: string, devices: string[], args: string[]): Promise<string> {
  return run(cmd, ['--devices', devices.join(','), '--driverloaded', 'n', ...args], { env: await lvmEnv() });
}

/** One PV-to-be: an image file, optionally a byte range of it (a partition), and its disk name. */
export interface PvSpec {
  image: string;
  name: string;
  offset?: number;
  size?: number;
}

/** Attach every spec to a loop device, run `fn` with the device paths, detach them all. */
export async function withLoops<T>(specs: PvSpec[], fn: (devs: string[]) => Promise<T>): Promise<T> {
  const devs: string[] = [];
  try {
    for (const s of specs) {
      const range = s.offset === undefined ? [] : ['-o', String(s.offset), '--sizelimit', String(s.size)];
      devs.push((await run('losetup', ['-f', '--show', ...range, s.image])).trim());
    }
    return await fn(devs);
  } finally {
    for (const d of devs) await run('losetup', ['-d', d]);
  }
}

export interface LvmReport {
  pvs: { pv_name: string; vg_name: string; pv_size: string; pv_uuid: string; pe_start: string }[];
  vgs: { vg_name: string; vg_uuid: string; vg_size: string; vg_free: string; vg_extent_size: string }[];
  /** One row per segment. */
  lvs: { lv_name: string; vg_name: string; lv_uuid: string; lv_size: string; seg_start: string; seg_size: string; seg_pe_ranges: string; stripes: string; stripe_size: string; segtype: string }[];
}

/** What the lvm2 tools say about the devices, with each loop device renamed to its disk name. */
export async function lvmReport(devs: string[], specs: PvSpec[]): Promise<LvmReport> {
  const common = ['--units', 'b', '--nosuffix', '--reportformat', 'json'];
  const report = async (cmd: string, fields: string, extra: string[] = []) => {
    let text = await lvm(cmd, devs, [...common, ...extra, '-o', fields]);
    // Longest first, so /dev/loop1 does not match inside /dev/loop10.
    const order = devs.map((d, i) => [d, specs[i]!.name] as const).sort((a, b) => b[0].length - a[0].length);
    for (const [dev, name] of order) text = text.split(`${dev}:`).join(`${name}:`).split(`"${dev}"`).join(`"${name}"`);
    return (JSON.parse(text) as { report: Record<string, unknown>[] }).report[0]!;
  };
  return {
    pvs: (await report('pvs', 'pv_name,vg_name,pv_size,pv_uuid,pe_start')).pv as LvmReport['pvs'],
    vgs: (await report('vgs', 'vg_name,vg_uuid,vg_size,vg_free,vg_extent_size')).vg as LvmReport['vgs'],
    lvs: (await report('lvs', 'lv_name,vg_name,lv_uuid,lv_size,seg_start,seg_size,seg_pe_ranges,stripes,stripe_size,segtype', ['--segments'])).seg as LvmReport['lvs'],
  };
}

export const STAMP_BLOCK = 4096;

/** The text stamped at the start of each 4 KiB block of an LV. */
export function stamp(vg: string, lv: string, offset: bigint): string {
  return `<${vg}/${lv}@${offset}>`;
}

/**
 * Write a stamp into every 4 KiB block of every linear or striped LV, at the place the lvs/pvs report puts it:
 * extents from seg_pe_ranges, after the PV's pe_start, chunks dealt round-robin over the
 * stripes. Reading the LV through our device must then find each stamp in order.
 */
export async function stampLvs(report: LvmReport, specs: PvSpec[]): Promise<void> {
  const files = new Map<string, RawFile>();
  try {
    for (const seg of report.lvs.filter((s) => s.segtype === 'linear' || s.segtype === 'striped')) {
      const vg = report.vgs.find((v) => v.vg_name === seg.vg_name)!;
      const extent = BigInt(vg.vg_extent_size);
      const areas = seg.seg_pe_ranges.split(' ').map((range) => {
        const m = /^(.*):(\d+)-(\d+)$/.exec(range)!;
        const spec = specs.find((s) => s.name === m[1])!;
        const pv = report.pvs.find((p) => p.pv_name === spec.name)!;
        return { spec, at: BigInt(spec.offset ?? 0) + BigInt(pv.pe_start) + BigInt(m[2]!) * extent };
      });
      const chunk = BigInt(seg.stripe_size) || BigInt(seg.seg_size);
      const n = BigInt(areas.length);
      for (let x = 0n; x < BigInt(seg.seg_size); x += BigInt(STAMP_BLOCK)) {
        const c = x / chunk;
        const area = areas[Number(c % n)]!;
        let file = files.get(area.spec.image);
        if (!file) files.set(area.spec.image, (file = await RawFile.open(area.spec.image, true)));
        const where = area.at + (c / n) * chunk + (x % chunk);
        await file.write(where, Buffer.from(stamp(seg.vg_name, seg.lv_name, BigInt(seg.seg_start) + x)));
      }
    }
  } finally {
    for (const f of files.values()) await f.close();
  }
}
