import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fixture } from '../fixtures/cache.js';
import { run, runStatus } from '../fixtures/run.js';
import { lvm, lvmReport, withLoops } from '../volume/lvm-tools.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'virt-filesystems.js');

const SFDISK = `label: dos
start=2048, size=20480, type=83, bootable
start=22528, size=40960, type=5
start=24576, size=8192, type=82
start=34816, size=28672, type=8e
`;

/** MBR disk: a primary partition, an extended one holding swap and an LVM PV with vg0/root. */
async function mbrLvmDisk(): Promise<{ image: string; report: string }> {
  const dir = await fixture('cli-mbr-lvm', SFDISK + 'vg0/root 8M v1', async (out) => {
    await run('mkdir', ['-p', out]);
    const image = join(out, 'disk.img');
    await run('truncate', ['-s', '32M', image]);
    await run('sfdisk', ['-q', image], { input: SFDISK });
    const specs = [{ image, name: '/dev/sda6', offset: 34816 * 512, size: 28672 * 512 }];
    const report = await withLoops(specs, async (devs) => {
      await lvm('pvcreate', devs, ['-q', devs[0]!]);
      await lvm('vgcreate', devs, ['-q', 'vg0', devs[0]!]);
      await lvm('lvcreate', devs, ['-q', '-Zn', '-L', '8M', '-n', 'root', 'vg0']);
      return lvmReport(devs, specs);
    });
    await writeFile(join(out, 'report.json'), JSON.stringify(report));
  });
  return { image: join(dir, 'disk.img'), report: join(dir, 'report.json') };
}

test('virt-filesystems --long lists partitions, logical partitions, PV, VG, LV and the device', async () => {
  const { image, report } = await mbrLvmDisk();
  const lv = JSON.parse(await run('cat', [report])) as Awaited<ReturnType<typeof lvmReport>>;
  const out = await run(process.execPath, [CLI, '-a', image, '--partitions', '--lvs', '--vgs', '--pvs', '--blkdevs', '--long']);
  const pvSize = lv.pvs[0]!.pv_size;
  const vgSize = lv.vgs[0]!.vg_size;
  const rows = out.trimEnd().split('\n').map((l) => l.split(/\s+/));
  assert.deepEqual(rows, [
    ['Name', 'Type', 'MBR', 'Size', 'Parent'],
    ['/dev/vg0/root', 'lv', '-', String(8 << 20), '/dev/vg0'],
    ['/dev/vg0', 'vg', '-', vgSize, '/dev/sda6'],
    ['/dev/sda6', 'pv', '-', pvSize, '-'],
    ['/dev/sda1', 'partition', '83', String(20480 * 512), '/dev/sda'],
    ['/dev/sda2', 'partition', '05', String(40960 * 512), '/dev/sda'],
    ['/dev/sda5', 'partition', '82', String(8192 * 512), '/dev/sda'],
    ['/dev/sda6', 'partition', '8e', String(28672 * 512), '/dev/sda'],
    ['/dev/sda', 'device', '-', String(32 << 20), '-'],
  ]);
});

test('virt-filesystems --csv and -h', async () => {
  const { image } = await mbrLvmDisk();
  const csv = await run(process.execPath, [CLI, '-a', image, '--partitions', '--long', '--csv', '--no-title']);
  assert.equal(csv.split('\n')[0], `/dev/sda1,partition,83,${20480 * 512},/dev/sda`);
  const human = await run(process.execPath, [CLI, '-a', image, '--blkdevs', '-l', '-h']);
  assert.match(human, /^\/dev\/sda\s+device\s+32M\s+-$/m);
  const bad = await runStatus(process.execPath, [CLI, '-a', image, '-h', '--csv']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /you cannot use -h and --csv options together/);
});

test('virt-filesystems names the image when it cannot be opened', async () => {
  const r = await runStatus(process.execPath, [CLI, '-a', '/nonexistent.qcow2']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^virt-filesystems: \/nonexistent.qcow2: cannot open/);
});

test('--filter stacks nbdkit-style filters on every disk: the log filter records the reads', async () => {
  const { image } = await mbrLvmDisk();
  const log = join(dirname(image), `access-${process.pid}.log`);
  await run(process.execPath, [CLI, '-a', image, `--filter=log:file=${log}`, '--filter=cache', '--partitions']);
  const lines = (await run('cat', [log])).trim().split('\n').map((l) => JSON.parse(l) as { op: string; offset: number; length: number });
  await run('rm', ['-f', log]);
  assert.ok(lines.some((l) => l.op === 'read' && l.offset === 0 && l.length >= 512), 'the MBR read is logged');
  const bad = await runStatus(process.execPath, [CLI, '-a', image, '--filter=nosuch']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /unknown filter "nosuch"/);
});
