import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { RawFile } from '../../disk/raw.js';
import { scanVolumes } from '../../volume/scan.js';
import type { LogicalVolume, VolumeScan } from '../../volume/types.js';
import { fixture, scratch } from '../fixtures/cache.js';
import { run } from '../fixtures/run.js';
import { closeDisks, openDisks } from './helpers.js';
import { lvm, lvmReport, stamp, stampLvs, STAMP_BLOCK, withLoops, type LvmReport, type PvSpec } from './lvm-tools.js';
import { flip, patch } from '../fixtures/patch.js';

interface LvmFixture {
  dir: string;
  report: LvmReport;
}

/** A directory of images set up by `build` over loop devices, stamped, with the lvm2 report saved. */
async function lvmFixture(name: string, images: { file: string; size: string; name: string; offset?: number; length?: number }[],
  recipe: string, prepare: (dir: string) => Promise<void>, build: (devs: string[]) => Promise<void>): Promise<LvmFixture> {
  const dir = await fixture(name, recipe + JSON.stringify(images), async (path) => {
    await mkdir(path);
    for (const img of images) await run('truncate', ['-s', img.size, join(path, img.file)]);
    await prepare(path);
    const specs: PvSpec[] = images.map((i) => ({ image: join(path, i.file), name: i.name, offset: i.offset, size: i.length }));
    const report = await withLoops(specs, async (devs) => {
      await build(devs);
      return lvmReport(devs, specs);
    });
    await stampLvs(report, specs);
    await writeFile(join(path, 'report.json'), JSON.stringify(report));
  });
  return { dir, report: JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as LvmReport };
}

const TWO_PVS = `pvcreate; vgcreate -s 1M vg0; lvcreate -L 12M root, -L 6M data on PV 1; lvcreate -i 2 -I 64k -L 8M stripes; lvextend -L +16M root`;

function twoPvs(): Promise<LvmFixture> {
  const images = [{ file: 'a.img', size: '32M', name: '/dev/sda' }, { file: 'b.img', size: '32M', name: '/dev/sdb' }];
  return lvmFixture('lvm-two-pvs', images, TWO_PVS, async () => {}, async (devs) => {
    await lvm('pvcreate', devs, devs);
    await lvm('vgcreate', devs, ['-s', '1M', 'vg0', ...devs]);
    await lvm('lvcreate', devs, ['-an', '-Zn', '-L', '12M', '-n', 'root', 'vg0', devs[0]!]);
    await lvm('lvcreate', devs, ['-an', '-Zn', '-L', '6M', '-n', 'data', 'vg0', devs[0]!]);
    await lvm('lvcreate', devs, ['-an', '-Zn', '-i', '2', '-I', '64k', '-L', '8M', '-n', 'stripes', 'vg0']);
    await lvm('lvextend', devs, ['-L', '+16M', 'vg0/root']);
  });
}

/** Our PVs, VGs and LVs in the shape of the lvm2 report. */
function asReport(scan: VolumeScan) {
  return {
    pvs: scan.pvs.map((p) => ({ pv_name: p.name, vg_name: p.vg, pv_size: String(p.size), pv_uuid: p.uuid })).sort(byName('pv_name')),
    vgs: scan.vgs.map((v) => ({ vg_name: v.name, vg_uuid: v.uuid, vg_size: String(v.size), vg_free: String(v.free) })).sort(byName('vg_name')),
    lvs: scan.lvs.map((l) => ({ lv_name: l.lv, vg_name: l.vg, lv_uuid: l.uuid, lv_size: String(l.size) })).sort(byName('lv_name')),
  };
}

function expected(report: LvmReport) {
  const lvs = new Map(report.lvs.map((s) => [`${s.vg_name}/${s.lv_name}`, { lv_name: s.lv_name, vg_name: s.vg_name, lv_uuid: s.lv_uuid, lv_size: s.lv_size }]));
  return {
    pvs: report.pvs.map(({ pe_start: _, ...p }) => p).sort(byName('pv_name')),
    vgs: report.vgs.map(({ vg_extent_size: _, ...v }) => v).sort(byName('vg_name')),
    lvs: [...lvs.values()].sort(byName('lv_name')),
  };
}

function byName<K extends string>(key: K) {
  return (a: Record<K, string>, b: Record<K, string>) => a[key].localeCompare(b[key]);
}

/** Read the whole LV in 1 MiB requests and check the stamp in each 4 KiB block. */
async function checkStamps(lv: LogicalVolume): Promise<void> {
  const chunk = 1 << 20;
  for (let off = 0n; off < lv.size; off += BigInt(chunk)) {
    const left = lv.size - off;
    const buf = await lv.device.read(off, left < BigInt(chunk) ? Number(left) : chunk);
    for (let b = 0; b < buf.length; b += STAMP_BLOCK) {
      const want = stamp(lv.vg, lv.lv, off + BigInt(b));
      const got = buf.toString('latin1', b, b + want.length);
      if (got !== want) assert.fail(`${lv.name} at ${off + BigInt(b)}: found "${got}", expected "${want}"`);
    }
  }
}

test('lvm: a VG over two disks matches pvs/vgs/lvs, with a linear LV in three segments and a striped LV', async () => {
  const { dir, report } = await twoPvs();
  // The fixture covers what it claims: root spans both PVs, stripes is 2 × 64 KiB.
  const rootSegs = report.lvs.filter((s) => s.lv_name === 'root');
  assert.ok(rootSegs.length >= 2 && new Set(rootSegs.map((s) => s.seg_pe_ranges.split(':')[0])).size === 2, JSON.stringify(rootSegs));
  assert.deepEqual(report.lvs.filter((s) => s.lv_name === 'stripes').map((s) => [s.stripes, s.stripe_size]), [['2', '65536']]);
  const disks = await openDisks(join(dir, 'a.img'), join(dir, 'b.img'));
  const scan = await scanVolumes(disks);
  assert.deepEqual(scan.warnings, []);
  assert.deepEqual(scan.tables, {});
  assert.deepEqual(asReport(scan), expected(report));
  assert.deepEqual(scan.vgs[0]!.pvs, ['/dev/sda', '/dev/sdb']);
  assert.deepEqual(scan.lvs.map((l) => l.name).sort(), ['/dev/vg0/data', '/dev/vg0/root', '/dev/vg0/stripes']);
  // Errors inside an LV name the image files it lies on as well as the LV.
  const [a, b] = [join(dir, 'a.img'), join(dir, 'b.img')];
  assert.deepEqual(Object.fromEntries(scan.lvs.map((l) => [l.lv, l.device.name])),
    { root: `${a}, ${b} (/dev/vg0/root)`, data: `${a} (/dev/vg0/data)`, stripes: `${a}, ${b} (/dev/vg0/stripes)` });
  await assert.rejects(scan.lvs.find((l) => l.lv === 'data')!.device.read(6n << 20n, 1), { message: new RegExp(`^${a} \\(/dev/vg0/data\\)`) });
  for (const lv of scan.lvs) await checkStamps(lv);
  // Unaligned reads across segment and stripe boundaries agree with aligned ones.
  for (const lv of scan.lvs) {
    const whole = await lv.device.read(0n, Number(lv.size));
    for (const at of [65536 - 7, 12 * 1048576 - 100, Number(lv.size) - 70000].filter((a) => a + 70000 <= lv.size)) {
      assert.deepEqual(await lv.device.read(BigInt(at), 70000), whole.subarray(at, at + 70000), `${lv.name} at ${at}`);
    }
  }
  await closeDisks(disks);
});

test('lvm: with one PV missing, LVs on it are skipped and named, the others still read', async () => {
  const { dir, report } = await twoPvs();
  const disks = await openDisks(join(dir, 'a.img'));
  const scan = await scanVolumes(disks);
  const missing = report.pvs.find((p) => p.pv_name === '/dev/sdb')!.pv_uuid;
  assert.deepEqual(scan.lvs.map((l) => l.name), ['/dev/vg0/data']);
  await checkStamps(scan.lvs[0]!);
  assert.equal(scan.warnings.length, 3);
  assert.match(scan.warnings[0]!, new RegExp(`VG vg0 is missing PV ${missing}`));
  assert.ok(scan.warnings.some((w) => /LV vg0\/root needs PV .* which is missing; skipped/.test(w)));
  assert.ok(scan.warnings.some((w) => /LV vg0\/stripes needs PV .* which is missing; skipped/.test(w)));
  await closeDisks(disks);
});

test('lvm: writes through a striped LV land where reads find them', async () => {
  const { dir } = await twoPvs();
  const work = await scratch('lvm-write');
  for (const f of ['a.img', 'b.img']) await run('cp', ['--sparse=always', join(dir, f), join(work, f)]);
  const disks = [
    { name: '/dev/sda', device: await RawFile.open(join(work, 'a.img'), true) },
    { name: '/dev/sdb', device: await RawFile.open(join(work, 'b.img'), true) },
  ];
  const lv = (await scanVolumes(disks)).lvs.find((l) => l.lv === 'stripes')!;
  assert.ok(lv.device.canWrite());
  const data = Buffer.alloc(300000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + 3) & 0xff;
  await lv.device.write(100000n, data);
  await closeDisks(disks);
  const again = await openDisks(join(work, 'a.img'), join(work, 'b.img'));
  const lv2 = (await scanVolumes(again)).lvs.find((l) => l.lv === 'stripes')!;
  assert.deepEqual(await lv2.device.read(100000n, data.length), data);
  const before = await lv2.device.read(0n, STAMP_BLOCK);
  assert.equal(before.toString('latin1', 0, stamp('vg0', 'stripes', 0n).length), stamp('vg0', 'stripes', 0n));
  await closeDisks(again);
});

const PART_SCRIPT = 'label: dos\nunit: sectors\nstart=2048, size=4096, type=83\nstart=6144, size=43008, type=83\n';
const SGDISK = ['-n', '1:2048:6143', '-t', '1:8300', '-n', '2:6144:47103', '-t', '2:8e00'];

/** A 24 MiB disk whose partition 2 is a PV: MBR type 83 (so found by its label), or GPT "Linux LVM". */
function onPartition(scheme: 'mbr' | 'gpt' = 'mbr'): Promise<LvmFixture> {
  const sectors = scheme === 'mbr' ? 43008 : 40960;
  const images = [{ file: 'disk.img', size: '24M', name: '/dev/sda2', offset: 6144 * 512, length: sectors * 512 }];
  const table = scheme === 'mbr' ? PART_SCRIPT : SGDISK.join(' ');
  return lvmFixture(`lvm-${scheme}-partition`, images, `${table}; pvcreate; vgcreate -s 1M vgp; lvcreate -L 4M home; -L 2M swap`,
    async (dir) => {
      const disk = join(dir, 'disk.img');
      if (scheme === 'mbr') await run('sfdisk', ['-q', disk], { input: PART_SCRIPT });
      else await run('sgdisk', [...SGDISK, disk]);
    },
    async (devs) => {
      await lvm('pvcreate', devs, devs);
      await lvm('vgcreate', devs, ['-s', '1M', 'vgp', ...devs]);
      await lvm('lvcreate', devs, ['-an', '-Zn', '-L', '4M', '-n', 'home', 'vgp']);
      await lvm('lvcreate', devs, ['-an', '-Zn', '-L', '2M', '-n', 'swap', 'vgp']);
    });
}

for (const [scheme, type] of [['mbr', '83'], ['gpt', 'E6D6D379-F507-44C2-A23C-238F2A3DF928']] as const) {
  test(`lvm: a PV on a ${scheme} partition (type ${type}) is found by its label`, async () => {
    const { dir, report } = await onPartition(scheme);
    const disks = await openDisks(join(dir, 'disk.img'));
    const scan = await scanVolumes(disks);
    assert.deepEqual(scan.warnings, []);
    assert.deepEqual(scan.partitions.map((p) => p.name), ['/dev/sda1', '/dev/sda2']);
    assert.equal(scan.partitions[1]!.type, type);
    assert.deepEqual(asReport(scan), expected(report));
    assert.deepEqual(scan.pvs.map((p) => p.name), ['/dev/sda2']);
    for (const lv of scan.lvs) await checkStamps(lv);
    await closeDisks(disks);
  });
}

/** The first raw_locn of the metadata area at `mda`: where the current text is, inside the ring. */
async function rawLocn(image: string, mda: number) {
  const buf = await readFile(image);
  return { offset: Number(buf.readBigUInt64LE(mda + 40)), size: Number(buf.readBigUInt64LE(mda + 48)), ringSize: Number(buf.readBigUInt64LE(mda + 32)) };
}

/** Where the PV label says the first metadata area is (pv_header at 0x220: uuid, size, data areas, then mdas). */
async function firstMda(image: string, pvStart: number): Promise<number> {
  const buf = await readFile(image);
  let at = pvStart + 512 + 32 + 40;
  while (buf.readBigUInt64LE(at) !== 0n) at += 16;
  return pvStart + Number(buf.readBigUInt64LE(at + 16));
}

test('lvm: damaged metadata text is a warning naming the device and offset, and no LVs', async () => {
  const { dir } = await onPartition();
  const work = await scratch('lvm-bad-text');
  const image = join(work, 'disk.img');
  await run('cp', ['--sparse=always', join(dir, 'disk.img'), image]);
  const pvStart = 6144 * 512;
  const mda = await firstMda(image, pvStart);
  const locn = await rawLocn(image, mda);
  await patch(image, mda + locn.offset + 10, Buffer.from('#'));
  const disks = await openDisks(image);
  const scan = await scanVolumes(disks);
  assert.deepEqual(scan.lvs, []);
  assert.equal(scan.warnings.length, 1);
  assert.ok(scan.warnings[0]!.startsWith(`${image} (/dev/sda2): LVM metadata area: metadata text has a bad checksum`), scan.warnings[0]);
  assert.ok(scan.warnings[0]!.endsWith(`(at byte ${mda - pvStart + locn.offset})`), scan.warnings[0]);
  await closeDisks(disks);
});

test('lvm: a damaged PV label is a warning, not an error', async () => {
  const { dir } = await onPartition();
  const work = await scratch('lvm-bad-label');
  const image = join(work, 'disk.img');
  await run('cp', ['--sparse=always', join(dir, 'disk.img'), image]);
  await flip(image, 6144 * 512 + 512 + 40); // a character of the PV uuid
  const disks = await openDisks(image);
  const scan = await scanVolumes(disks);
  assert.deepEqual([scan.pvs, scan.lvs], [[], []]);
  assert.equal(scan.warnings.length, 1);
  assert.match(scan.warnings[0]!, /\(\/dev\/sda2\): LVM PV label: bad checksum .* \(at byte 528\)$/);
  await closeDisks(disks);
});

const RING = 'pvcreate --metadatasize 8k --dataalignment 64k; vgcreate -s 1M vgr; lvcreate -L 1M lv1..lv8; lvrename lv1 <-> ring until the text wraps';

test('lvm: metadata text that wraps around the end of the circular buffer', async () => {
  const images = [{ file: 'ring.img', size: '16M', name: '/dev/sda' }];
  const { dir, report } = await lvmFixture('lvm-ring', images, RING, async () => {}, async (devs) => {
    await lvm('pvcreate', devs, ['--metadatasize', '8k', '--dataalignment', '64k', ...devs]);
    await lvm('vgcreate', devs, ['-s', '1M', 'vgr', ...devs]);
    for (let i = 1; i <= 8; i++) await lvm('lvcreate', devs, ['-an', '-Zn', '-L', '1M', '-n', `lv${i}`, 'vgr']);
    for (let i = 0; i < 60; i++) {
      await lvm('lvrename', devs, i % 2 ? ['vgr', 'ring', 'lv1'] : ['vgr', 'lv1', 'ring']);
      const buf = Buffer.alloc(512);
      const fh = await import('node:fs/promises').then((f) => f.open(devs[0]!));
      await fh.read(buf, 0, 512, 4096);
      await fh.close();
      if (Number(buf.readBigUInt64LE(40) + buf.readBigUInt64LE(48)) > Number(buf.readBigUInt64LE(32))) return;
    }
    throw new Error('the metadata never wrapped');
  });
  const image = join(dir, 'ring.img');
  const locn = await rawLocn(image, await firstMda(image, 0));
  assert.ok(locn.offset + locn.size > locn.ringSize, `the text wraps: ${JSON.stringify(locn)}`);
  const disks = await openDisks(image);
  const scan = await scanVolumes(disks);
  assert.deepEqual(scan.warnings, []);
  assert.deepEqual(asReport(scan), expected(report));
  for (const lv of scan.lvs) await checkStamps(lv);
  await closeDisks(disks);
});

/** LVs lvcreate cannot make without device-mapper, added through vgcfgbackup/vgcfgrestore. */
const UNSUPPORTED_LVS = `
    snapshot0 { id = "snapsh-ot00-0000-0000-0000-0000-000000" status = ["READ"] flags = [] segment_count = 1
      segment1 { start_extent = 0 extent_count = 4 type = "snapshot" chunk_size = 8 origin = "orig" cow_store = "snap" } }
    mir { id = "mirror-0000-0000-0000-0000-0000-000000" status = ["READ", "WRITE", "VISIBLE"] flags = [] segment_count = 1
      segment1 { start_extent = 0 extent_count = 2 type = "raid1" device_count = 2 region_size = 1024
        raids = ["mir_rmeta_0", "mir_rimage_0", "mir_rmeta_1", "mir_rimage_1"] } }
    mir_rmeta_0 { id = "mirror-0000-0000-0000-0000-0000-000001" status = ["READ", "WRITE"] flags = [] segment_count = 1
      segment1 { start_extent = 0 extent_count = 1 type = "striped" stripe_count = 1 stripes = ["pv0", 6] } }
    mir_rimage_0 { id = "mirror-0000-0000-0000-0000-0000-000002" status = ["READ", "WRITE"] flags = [] segment_count = 1
      segment1 { start_extent = 0 extent_count = 2 type = "striped" stripe_count = 1 stripes = ["pv0", 7] } }
    mir_rmeta_1 { id = "mirror-0000-0000-0000-0000-0000-000003" status = ["READ", "WRITE"] flags = [] segment_count = 1
      segment1 { start_extent = 0 extent_count = 1 type = "striped" stripe_count = 1 stripes = ["pv0", 9] } }
    mir_rimage_1 { id = "mirror-0000-0000-0000-0000-0000-000004" status = ["READ", "WRITE"] flags = [] segment_count = 1
      segment1 { start_extent = 0 extent_count = 2 type = "striped" stripe_count = 1 stripes = ["pv0", 10] } }
    pool { id = "thinpo-ol00-0000-0000-0000-0000-000000" status = ["READ", "WRITE", "VISIBLE"] flags = [] segment_count = 1
      segment1 { start_extent = 0 extent_count = 2 type = "thin-pool" metadata = "pool_tmeta" pool = "pool_tdata"
        transaction_id = 1 chunk_size = 128 discards = "passdown" zero_new_blocks = 1 } }
    thin { id = "thinlv-0000-0000-0000-0000-0000-000000" status = ["READ", "WRITE", "VISIBLE"] flags = [] segment_count = 1
      segment1 { start_extent = 0 extent_count = 8 type = "thin" thin_pool = "pool" transaction_id = 0 device_id = 1 } }
    pool_tmeta { id = "thinpo-ol00-0000-0000-0000-0000-000001" status = ["READ", "WRITE"] flags = [] segment_count = 1
      segment1 { start_extent = 0 extent_count = 1 type = "striped" stripe_count = 1 stripes = ["pv0", 12] } }
    pool_tdata { id = "thinpo-ol00-0000-0000-0000-0000-000002" status = ["READ", "WRITE"] flags = [] segment_count = 1
      segment1 { start_extent = 0 extent_count = 2 type = "striped" stripe_count = 1 stripes = ["pv0", 13] } }
`;

test('lvm: snapshot, raid1, thin-pool and thin LVs are skipped with a warning naming each', async () => {
  const images = [{ file: 'odd.img', size: '32M', name: '/dev/sda' }];
  const { dir, report } = await lvmFixture('lvm-unsupported', images, `lvcreate orig, snap; vgcfgrestore --force with ${UNSUPPORTED_LVS}`, async () => {}, async (devs) => {
    await lvm('pvcreate', devs, devs);
    await lvm('vgcreate', devs, ['-s', '1M', 'vgu', ...devs]);
    await lvm('lvcreate', devs, ['-an', '-Zn', '-L', '4M', '-n', 'orig', 'vgu']);
    await lvm('lvcreate', devs, ['-an', '-Zn', '-L', '2M', '-n', 'snap', 'vgu']);
    const backup = join(await scratch('vgcfg'), 'vgu.txt');
    await lvm('vgcfgbackup', devs, ['-f', backup, 'vgu']);
    const text = await readFile(backup, 'utf8');
    // Insert before the closing braces of logical_volumes and of the VG.
    const end = text.replace(/\}\s*\}\s*$/, '');
    assert.notEqual(end, text);
    await writeFile(backup, `${end}${UNSUPPORTED_LVS}}\n}\n`);
    await lvm('vgcfgrestore', devs, ['--force', '-f', backup, 'vgu']);
  });
  assert.deepEqual(new Set(report.lvs.map((s) => s.segtype)), new Set(['linear', 'raid1', 'thin-pool', 'thin']));
  const disks = await openDisks(join(dir, 'odd.img'));
  const scan = await scanVolumes(disks);
  assert.deepEqual(scan.warnings, [
    'LVM: LV vgu/snap is a snapshot, which is not supported; skipped',
    'LVM: LV vgu/mir has a raid1 segment, which is not supported; skipped',
    'LVM: LV vgu/pool has a thin-pool segment, which is not supported; skipped',
    'LVM: LV vgu/thin has a thin segment, which is not supported; skipped',
  ]);
  assert.deepEqual(scan.lvs.map((l) => l.name), ['/dev/vgu/orig']);
  // Only the origin is a plain LV; the VG's sizes still count every extent in use.
  const { lvs: _lvs, ...rest } = asReport(scan);
  const { lvs: _want, ...wantRest } = expected(report);
  assert.deepEqual(rest, wantRest);
  await checkStamps(scan.lvs[0]!);
  await closeDisks(disks);
});

test('lvm: a PV in no VG is listed with an empty VG name and its device size, as pvs does', async () => {
  const images = [{ file: 'orphan.img', size: '20M', name: '/dev/sda' }];
  const { dir, report } = await lvmFixture('lvm-orphan', images, 'pvcreate', async () => {}, (devs) => lvm('pvcreate', devs, devs).then(() => undefined));
  const disks = await openDisks(join(dir, 'orphan.img'));
  const scan = await scanVolumes(disks);
  assert.deepEqual(scan.warnings, []);
  assert.deepEqual(asReport(scan), expected(report));
  assert.deepEqual(scan.pvs.map((p) => [p.vg, p.size]), [['', 20n << 20n]]);
  await closeDisks(disks);
});

test('lvm: two VGs of one name (clones) keep the first and warn about the second', async () => {
  const images = [{ file: 'c1.img', size: '8M', name: '/dev/sda' }, { file: 'c2.img', size: '8M', name: '/dev/sdb' }];
  const { dir } = await lvmFixture('lvm-clones', images, 'vgcreate vgc on each disk alone; lvcreate -L 2M root', async () => {}, async (devs) => {
    for (const dev of devs) {
      await lvm('pvcreate', [dev], [dev]);
      await lvm('vgcreate', [dev], ['-s', '1M', 'vgc', dev]);
      await lvm('lvcreate', [dev], ['-an', '-Zn', '-L', '2M', '-n', 'root', 'vgc']);
    }
  });
  const disks = await openDisks(join(dir, 'c1.img'), join(dir, 'c2.img'));
  const scan = await scanVolumes(disks);
  assert.deepEqual(scan.lvs.map((l) => l.name), ['/dev/vgc/root']);
  assert.deepEqual(scan.vgs.map((v) => v.pvs), [['/dev/sda']]);
  assert.deepEqual(scan.pvs.map((p) => [p.name, p.vg]), [['/dev/sda', 'vgc'], ['/dev/sdb', 'vgc']]);
  assert.equal(scan.warnings.length, 1);
  assert.match(scan.warnings[0]!, /^LVM: VG vgc \(.*\) has the name of VG .*; its LVs are skipped$/);
  await closeDisks(disks);
});

function metadataCopies(): Promise<LvmFixture> {
  const images = [{ file: 'two-mdas.img', size: '16M', name: '/dev/sda' }, { file: 'no-mda.img', size: '16M', name: '/dev/sdb' }];
  return lvmFixture('lvm-mda-copies', images, 'pvcreate --pvmetadatacopies 2 / 0; vgcreate -s 1M vgm; lvcreate -L 20M span', async () => {}, async (devs) => {
    await lvm('pvcreate', devs, ['--pvmetadatacopies', '2', devs[0]!]);
    await lvm('pvcreate', devs, ['--pvmetadatacopies', '0', devs[1]!]);
    await lvm('vgcreate', devs, ['-s', '1M', 'vgm', ...devs]);
    await lvm('lvcreate', devs, ['-an', '-Zn', '-L', '20M', '-n', 'span', 'vgm']);
  });
}

test('lvm: a PV without metadata joins its VG through another PV; a damaged first copy falls back to the second', async () => {
  const { dir, report } = await metadataCopies();
  const paths = [join(dir, 'two-mdas.img'), join(dir, 'no-mda.img')];
  const disks = await openDisks(...paths);
  const scan = await scanVolumes(disks);
  assert.deepEqual(scan.warnings, []);
  assert.deepEqual(asReport(scan), expected(report));
  await checkStamps(scan.lvs[0]!);
  await closeDisks(disks);

  const work = await scratch('lvm-mda-copies');
  const copies = paths.map((p, i) => join(work, `${i}.img`));
  for (const [i, p] of paths.entries()) await run('cp', ['--sparse=always', p, copies[i]!]);
  const mda = await firstMda(copies[0]!, 0);
  await patch(copies[0]!, mda + (await rawLocn(copies[0]!, mda)).offset + 10, Buffer.from('#'));
  const damaged = await openDisks(...copies);
  const again = await scanVolumes(damaged);
  assert.deepEqual(asReport(again), expected(report));
  assert.equal(again.warnings.length, 1);
  assert.match(again.warnings[0]!, /LVM metadata area: metadata text has a bad checksum/);
  await closeDisks(damaged);
});
