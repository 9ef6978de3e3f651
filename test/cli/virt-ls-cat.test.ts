import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fixture } from '../fixtures/cache.js';
import { run, runStatus } from '../fixtures/run.js';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin');
const tool = (name: string, args: string[]) => run(process.execPath, [join(BIN, `${name}.js`), ...args]);

const RECIPE = `v1 mbr: p1 fat16 16M (mtools), p2 ext4 24M (mkfs.ext4 -d)`;

/** An MBR disk: a FAT partition made with mtools and an ext4 root made from a host tree. */
async function disk(): Promise<{ image: string; tree: string }> {
  const dir = await fixture('cli-ls-cat', RECIPE, async (out) => {
    const tree = join(out, 'tree');
    await mkdir(join(tree, 'etc'), { recursive: true });
    await mkdir(join(tree, 'boot'), { recursive: true });
    await mkdir(join(tree, 'srv', 'deep', 'er'), { recursive: true });
    await writeFile(join(tree, 'etc', 'fstab'), '/dev/sda2 / ext4 defaults 0 1\n');
    await writeFile(join(tree, 'srv', 'deep', 'er', 'big.bin'), Buffer.alloc(3 << 20, 'guestkit'));
    await symlink('../etc/fstab', join(tree, 'srv', 'link'));
    const image = join(out, 'disk.img');
    await run('truncate', ['-s', '48M', image]);
    await run('sfdisk', ['-q', image], { input: 'label: dos\nstart=2048, size=32768, type=6\nstart=34816, type=83\n' });
    const fat = join(out, 'fat.img');
    await run('truncate', ['-s', '16M', fat]);
    await run('mkfs.vfat', ['-F', '16', '-n', 'BOOT', fat]);
    await writeFile(join(out, 'grub.cfg'), 'set timeout=5\n');
    await run('mcopy', ['-i', fat, join(out, 'grub.cfg'), '::/grub.cfg'], { env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
    const root = join(out, 'root.img');
    await run('truncate', ['-s', `${(98304 - 34816) * 512}`, root]);
    await run('mkfs.ext4', ['-q', '-E', 'root_owner=0:0', '-d', tree, root]);
    await run('dd', [`if=${fat}`, `of=${image}`, 'bs=512', 'seek=2048', 'conv=notrunc,sparse', 'status=none']);
    await run('dd', [`if=${root}`, `of=${image}`, 'bs=512', 'seek=34816', 'conv=notrunc,sparse', 'status=none']);
  });
  return { image: join(dir, 'disk.img'), tree: join(dir, 'tree') };
}

test('virt-ls -R lists what find lists in the source tree, crossing into a mounted FAT', async () => {
  const { image, tree } = await disk();
  const ours = await tool('virt-ls', ['-a', image, '-m', '/dev/sda2', '-m', '/dev/sda1:/boot', '-R', '/']);
  const found = (await run('find', [tree, '-mindepth', '1'])).trim().split('\n').map((p) => p.slice(tree.length));
  const want = [...found, '/lost+found', '/boot/grub.cfg'].sort();
  assert.deepEqual(ours.trim().split('\n').sort(), want);
});

test('virt-ls -l and -lR show modes, sizes and link targets', async () => {
  const { image } = await disk();
  const lr = await tool('virt-ls', ['-a', image, '-m', '/dev/sda2', '-lR', '/srv']);
  assert.match(lr, /^l 0777 +12 \/srv\/link -> \.\.\/etc\/fstab$/m);
  assert.match(lr, new RegExp(`^- 0644 +${3 << 20} /srv/deep/er/big.bin$`, 'm'));
  const l = await tool('virt-ls', ['-a', image, '-m', '/dev/sda2', '-l', '/etc']);
  assert.match(l, /^-rw-r--r--  1 0 0 +30 \w{3} [ \d]\d [ \d:]{5} fstab$/m);
});

test('virt-cat prints files byte for byte, following symlinks, from either filesystem', async () => {
  const { image, tree } = await disk();
  const big = await run('sh', ['-c', `node ${join(BIN, 'virt-cat.js')} -a ${image} -m /dev/sda2 /srv/deep/er/big.bin | sha256sum`]);
  const ref = await run('sha256sum', [join(tree, 'srv', 'deep', 'er', 'big.bin')]);
  assert.equal(big.split(' ')[0], ref.split(' ')[0]);
  assert.equal(await tool('virt-cat', ['-a', image, '-m', '/dev/sda2', '/srv/link']), await readFile(join(tree, 'etc', 'fstab'), 'utf8'));
  assert.equal(await tool('virt-cat', ['-a', image, '-m', '/dev/sda2', '-m', '/dev/sda1:/boot', '/boot/GRUB.CFG']), 'set timeout=5\n');
});

test('virt-ls and virt-cat errors name what is wrong', async () => {
  const { image } = await disk();
  const many = await runStatus(process.execPath, [join(BIN, 'virt-cat.js'), '-a', image, '/etc/fstab']);
  assert.equal(many.code, 1);
  assert.match(many.stderr, /choose the filesystem to mount with -m DEVICE\[:MOUNTPOINT\]; filesystems found: \/dev\/sda1 \(vfat\), \/dev\/sda2 \(ext4\)/);
  const missing = await runStatus(process.execPath, [join(BIN, 'virt-cat.js'), '-a', image, '-m', '/dev/sda2', '/etc/nope']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^virt-cat: ENOENT/);
  const nodev = await runStatus(process.execPath, [join(BIN, 'virt-ls.js'), '-a', image, '-m', '/dev/sda9', '/']);
  assert.match(nodev.stderr, /\/dev\/sda9: no such device \(devices: \/dev\/sda1, \/dev\/sda2\)/);
});
