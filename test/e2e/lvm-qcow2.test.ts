/**
 * A Linux guest as users meet it: /boot on a partition, root on an LV spanning two disks, both
 * disks qcow2 (one compressed), read through the real commands.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fixture } from '../fixtures/cache.js';
import { run } from '../fixtures/run.js';
import { BIN, place, tool } from './tools.js';
import { lvm, lvmReport, withLoops, type PvSpec } from '../volume/lvm-tools.js';


const RECIPE = `v1 e2e: d1 dos p1 ext4 16M boot, p2 PV; d2 whole PV; vg0/root 100%FREE ext4 -d; qcow2, d2 -c`;
const P2 = (2048 + 32768) * 512;

async function guest(): Promise<{ dir: string; lvSize: number }> {
  const dir = await fixture('e2e-lvm-qcow2', RECIPE, async (out) => {
    const root = join(out, 'root');
    const boot = join(out, 'boot');
    await mkdir(join(root, 'etc'), { recursive: true });
    await mkdir(join(root, 'boot'));
    await mkdir(join(root, 'var', 'lib', 'data'), { recursive: true });
    await mkdir(join(boot, 'grub'), { recursive: true });
    await writeFile(join(root, 'etc', 'fstab'), '/dev/vg0/root / ext4 defaults 0 1\n/dev/sda1 /boot ext4 defaults 0 2\n');
    // Pseudo-random bytes, so a wrong block shows in the hash; big enough to cross extents.
    await run('dd', ['if=/dev/urandom', `of=${join(root, 'var', 'lib', 'data', 'blob.bin')}`, 'bs=1M', 'count=40', 'status=none']);
    await writeFile(join(boot, 'grub', 'grub.cfg'), 'set timeout=5\n');
    await writeFile(join(boot, 'vmlinuz'), Buffer.alloc(1 << 20, 'kernel'));
    const d1 = join(out, 'd1.img');
    const d2 = join(out, 'd2.img');
    await run('truncate', ['-s', '64M', d1]);
    await run('truncate', ['-s', '48M', d2]);
    await run('sfdisk', ['-q', d1], { input: 'label: dos\nstart=2048, size=32768, type=83\nstart=34816, type=8e\n' });
    const bootImg = join(out, 'boot.img');
    await run('truncate', ['-s', '16M', bootImg]);
    await run('mkfs.ext4', ['-q', '-L', 'boot', '-E', 'root_owner=0:0', '-d', boot, bootImg]);
    await place(bootImg, d1, 0, 2048 * 512, 16 << 20);
    const specs: PvSpec[] = [
      { image: d1, name: '/dev/sda2', offset: P2, size: (64 << 20) - P2 },
      { image: d2, name: '/dev/sdb' },
    ];
    const report = await withLoops(specs, async (devs) => {
      await lvm('pvcreate', devs, ['-q', ...devs]);
      await lvm('vgcreate', devs, ['-q', 'vg0', ...devs]);
      await lvm('lvcreate', devs, ['-q', '-n', 'root', '-l', '100%FREE', '-Zn', '-Wn', 'vg0']);
      return lvmReport(devs, specs);
    });
    const segs = report.lvs.filter((s) => s.lv_name === 'root');
    assert.ok(segs.length >= 2, 'root spans both PVs');
    const rootImg = join(out, 'rootfs.img');
    await run('truncate', ['-s', segs[0]!.lv_size, rootImg]);
    await run('mkfs.ext4', ['-q', '-L', 'root', '-E', 'root_owner=0:0', '-d', root, rootImg]);
    const extent = Number(report.vgs[0]!.vg_extent_size);
    // Each segment of the LV goes where lvs says its extents are on the PV.
    for (const seg of segs) {
      const m = /^(.*):(\d+)-(\d+)$/.exec(seg.seg_pe_ranges)!;
      const spec = specs.find((s) => s.name === m[1])!;
      const pv = report.pvs.find((p) => p.pv_name === spec.name)!;
      const at = (spec.offset ?? 0) + Number(pv.pe_start) + Number(m[2]) * extent;
      await place(rootImg, spec.image, Number(seg.seg_start), at, Number(seg.seg_size));
    }
    await run('qemu-img', ['convert', '-O', 'qcow2', d1, join(out, 'd1.qcow2')]);
    await run('qemu-img', ['convert', '-c', '-O', 'qcow2', d2, join(out, 'd2.qcow2')]);
    await writeFile(join(out, 'lv-size'), segs[0]!.lv_size);
  });
  return { dir, lvSize: Number(await readFile(join(dir, 'lv-size'), 'utf8')) };
}

const disks = (dir: string) => ['--format=qcow2', '-a', join(dir, 'd1.qcow2'), '--format=qcow2', '-a', join(dir, 'd2.qcow2')];

test('virt-filesystems lists the LV spanning two qcow2 disks as ext4 with its label and size', async () => {
  const { dir, lvSize } = await guest();
  const out = await tool('virt-filesystems', [...disks(dir), '--all', '--long']);
  const rows = out.trim().split('\n').slice(1).map((l) => l.split(/\s+/));
  const has = (want: string[]) => assert.ok(rows.some((r) => r.join(' ') === want.join(' ')), `${want.join(' ')} in\n${out}`);
  has(['/dev/vg0/root', 'filesystem', 'ext4', 'root', '-', String(lvSize), '-']);
  has(['/dev/sda1', 'filesystem', 'ext4', 'boot', '-', String(16 << 20), '-']);
  has(['/dev/vg0/root', 'lv', '-', '-', '-', String(lvSize), '/dev/vg0']);
  has(['/dev/vg0', 'vg', '-', '-', '-', String(lvSize), '/dev/sda2,/dev/sdb']);
});

test('virt-ls -R through LVM over two qcow2 disks lists what find lists in the source trees', async () => {
  const { dir } = await guest();
  const out = await tool('virt-ls', [...disks(dir), '-m', '/dev/vg0/root', '-m', '/dev/sda1:/boot', '-R', '/']);
  const find = async (tree: string, prefix: string) =>
    (await run('find', [tree, '-mindepth', '1'])).trim().split('\n').map((p) => prefix + p.slice(tree.length));
  const want = [...await find(join(dir, 'root'), ''), '/lost+found',
    ...await find(join(dir, 'boot'), '/boot'), '/boot/lost+found'].sort();
  assert.deepEqual(out.trim().split('\n').sort(), want);
});

test('virt-cat of a 40 MiB file on the spanning LV equals the source bytes', async () => {
  const { dir } = await guest();
  const cmd = `node ${join(BIN, 'virt-cat.js')} ${disks(dir).join(' ')} -m /dev/vg0/root /var/lib/data/blob.bin | sha256sum`;
  const ours = (await run('sh', ['-c', cmd])).split(' ')[0];
  const want = (await run('sha256sum', [join(dir, 'root', 'var', 'lib', 'data', 'blob.bin')])).split(' ')[0];
  assert.equal(ours, want);
});
