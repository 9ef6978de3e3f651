#!/usr/bin/env node
/** virt-filesystems: list the devices, partitions, volumes and filesystems in disk images. */
import { openGuest } from './open.js';
import { diskOptions, main, parseTool } from './common.js';
import { escapeName } from './escape.js';
import { humanSize } from './human.js';
import { printOut } from './print.js';
import { type Cell, formatCsv, formatText } from './table.js';

const USAGE = `Usage: virt-filesystems -a IMAGE [-a IMAGE...] [--format=raw|qcow2|vmdk]
       [--all | --filesystems --extra --partitions --lvs --vgs --pvs --blkdevs]
       [-l|--long] [-h|--human-readable] [--csv] [--uuid] [--no-title] [-v] [-x] [-V]
`;

const options = {
  ...diskOptions,
  all: { type: 'boolean' },
  extra: { type: 'boolean' },
  filesystems: { type: 'boolean' },
  partitions: { type: 'boolean' },
  parts: { type: 'boolean' },
  lvs: { type: 'boolean' },
  logvols: { type: 'boolean' },
  'logical-volumes': { type: 'boolean' },
  vgs: { type: 'boolean' },
  volgroups: { type: 'boolean' },
  'volume-groups': { type: 'boolean' },
  pvs: { type: 'boolean' },
  physvols: { type: 'boolean' },
  'physical-volumes': { type: 'boolean' },
  blkdevs: { type: 'boolean' },
  'block-devices': { type: 'boolean' },
  long: { type: 'boolean', short: 'l' },
  'human-readable': { type: 'boolean', short: 'h' },
  csv: { type: 'boolean' },
  uuid: { type: 'boolean' },
  uuids: { type: 'boolean' },
  'no-title': { type: 'boolean' },
} as const;

main(async (argv) => {
  const parsed = parseTool(argv, options, USAGE);
  if (!parsed) return 0;
  const { values: v, disks } = parsed;
  if (v['human-readable'] && v.csv) throw new Error('you cannot use -h and --csv options together.');

  const show = {
    fs: !!(v.all || v.filesystems || v.extra),
    extra: !!(v.all || v.extra),
    lvs: !!(v.all || v.lvs || v.logvols || v['logical-volumes']),
    vgs: !!(v.all || v.vgs || v.volgroups || v['volume-groups']),
    pvs: !!(v.all || v.pvs || v.physvols || v['physical-volumes']),
    parts: !!(v.all || v.partitions || v.parts),
    devs: !!(v.all || v.blkdevs || v['block-devices']),
  };
  if (!Object.values(show).some(Boolean)) show.fs = true;
  const long = !!v.long;
  const cols = {
    type: long,
    vfs: long && show.fs,
    label: long && show.fs,
    mbr: long && show.parts,
    size: long,
    parent: long,
    uuid: long && !!(v.uuid || v.uuids),
  };
  const size = (n: bigint) => (v['human-readable'] ? humanSize(n) : n.toString());

  const guest = await openGuest(disks, v);
  try {
    const rows: Cell[][] = [];
    const row = (r: { name: string; type: string; vfs?: string; label?: string; mbr?: string; size?: bigint; parent?: string; uuid?: string }) => {
      const cells: Cell[] = [r.name];
      if (cols.type) cells.push(r.type);
      if (cols.vfs) cells.push(r.vfs);
      if (cols.label) cells.push(r.label);
      if (cols.mbr) cells.push(r.mbr);
      if (cols.size) cells.push(r.size === undefined ? undefined : size(r.size));
      if (cols.parent) cells.push(r.parent);
      if (cols.uuid) cells.push(r.uuid);
      // Labels, VG and LV names come from the image.
      rows.push(cells.map((c) => c && escapeName(c)));
    };
    if (long && !v['no-title']) {
      rows.push(['Name', ...(['Type', 'VFS', 'Label', 'MBR', 'Size', 'Parent', 'UUID'] as const).filter((_, i) => Object.values(cols)[i])]);
    }
    const { scan } = guest;
    if (show.fs) {
      for (const f of await guest.filesystems()) {
        if (!show.extra && (f.type === 'unknown' || f.type === 'swap')) continue;
        row({ name: f.name, type: 'filesystem', vfs: f.type, label: f.label, size: f.size, uuid: f.uuid });
      }
    }
    if (show.lvs) for (const lv of scan.lvs) row({ name: lv.name, type: 'lv', size: lv.size, parent: `/dev/${lv.vg}`, uuid: lv.uuid.replace(/-/g, '') });
    if (show.vgs) for (const vg of scan.vgs) row({ name: `/dev/${vg.name}`, type: 'vg', size: vg.size, parent: vg.pvs.join(','), uuid: vg.uuid.replace(/-/g, '') });
    if (show.pvs) for (const pv of scan.pvs) row({ name: pv.name, type: 'pv', size: pv.size, uuid: pv.uuid.replace(/-/g, '') });
    if (show.parts) {
      for (const p of scan.partitions) {
        row({ name: p.name, type: 'partition', mbr: p.scheme === 'mbr' ? p.type.toLowerCase() : undefined, size: p.size, parent: p.disk });
      }
    }
    if (show.devs) for (const d of scan.disks) row({ name: d.name, type: 'device', size: d.device.size });
    printOut(v.csv ? formatCsv(rows) : formatText(rows));
  } finally {
    await guest.close();
  }
});
