/**
 * guestmount on images made by real tools, used with the ordinary shell tools, then checked
 * with each filesystem's own checker and reader after guestunmount.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import { BIN } from '../e2e/tools.js';
import { linuxImage } from '../inspect/linux-image.js';
import { copyImage } from '../fs/ntfs/images.js';
import { run, runStatus } from '../fixtures/run.js';
import { BIG, converted, dirtyJournalImage, ext4Image, fatImage, ntfsImage } from './images.js';
import { guestunmount, sh, sha256, withMount } from './helpers.js';

const BIG_SHA = createHash('sha256').update(BIG).digest('hex');
const T = { timeout: 180_000 };

/** What every writable filesystem must do; `posix` adds symlinks, modes and xattrs. */
function workload(posix: boolean): string {
  return `
ls -la . dir >/dev/null
test "$(cat hello.txt)" = "hello world"
test "$(sha256sum big.bin | cut -d' ' -f1)" = ${BIG_SHA}
test "$(find . | wc -l)" -ge 55
stat -c %s big.bin | grep -qx ${BIG.length}
mkdir -p new/sub
cp -a dir new/copied
test "$(cat new/copied/nested/deep.txt)" = deep
for i in $(seq 1 40); do echo "line $i" >> new/log; done
test "$(tail -n1 new/log)" = "line 40"
mv new/log new/log2
test ! -e new/log
touch new/stamp
rm dir/f1.txt dir/f2.txt
rmdir new/sub
cp big.bin new/big-copy
test "$(sha256sum new/big-copy | cut -d' ' -f1)" = ${BIG_SHA}
du -s new >/dev/null
df -k . | tail -n1 | grep -q .
# A file kept open after its unlink stays readable and writable until closed.
python3 - <<'PY'
import os, time
fd = os.open('keep', os.O_RDWR | os.O_CREAT, 0o644)
os.write(fd, b'before\\n')
os.unlink('keep')
assert 'keep' not in os.listdir('.'), os.listdir('.')
os.write(fd, b'after\\n')
os.lseek(fd, 0, 0)
assert os.read(fd, 100) == b'before\\nafter\\n'
os.close(fd)
for _ in range(50):
    if not any(n.startswith('.fuse_hidden') for n in os.listdir('.')): break
    time.sleep(0.1)
assert not any(n.startswith('.fuse_hidden') for n in os.listdir('.')), os.listdir('.')
PY
${posix ? `
ln -s ../hello.txt new/link
test "$(readlink new/link)" = ../hello.txt
test "$(cat new/link)" = "hello world"
chmod 640 new/stamp
test "$(stat -c %a new/stamp)" = 640
touch -d '2020-01-02 03:04:05' new/stamp
test "$(stat -c %Y new/stamp)" = "$(date -d '2020-01-02 03:04:05' +%s)"
setfattr -n user.color -v blue new/stamp
test "$(getfattr --only-values -n user.color new/stamp)" = blue
` : ''}
# readdir's inode numbers and types (d_ino, d_type: what scandir uses) agree with lstat.
python3 - <<'PY'
import os, stat
seen = 0
for d in ['.', 'dir', 'new']:
    for e in os.scandir(d):
        st = os.lstat(e.path)
        assert e.inode() == st.st_ino, (e.path, e.inode(), st.st_ino)
        assert e.is_dir(follow_symlinks=False) == stat.S_ISDIR(st.st_mode), e.path
        assert e.is_symlink() == stat.S_ISLNK(st.st_mode), e.path
        assert e.is_file(follow_symlinks=False) == stat.S_ISREG(st.st_mode), e.path
        seen += 1
assert seen > 50, seen
PY
sync
`;
}

test('ext4: the shell tools work on a read-write mount; e2fsck and debugfs agree after guestunmount', T, async () => {
  const img = await copyImage(await ext4Image(), 'mount-ext4-rw');
  await withMount('ext4', ['-a', img, '-m', '/dev/sda'], async (mnt) => {
    // Marked in use as the kernel marks a read-write mount.
    assert.match(await run('dumpe2fs', ['-h', img]), /Filesystem state:\s+not clean\n/);
    await sh(workload(true), mnt);
    const r = await guestunmount([mnt]);
    assert.equal(r.code, 0, r.stderr);
  });
  const sb = await run('dumpe2fs', ['-h', img]);
  assert.match(sb, /Filesystem state:\s+clean\n/);
  assert.match(sb, /Mount count:\s+1\n/);
  await run('e2fsck', ['-fn', img]);
  assert.equal(await run('debugfs', ['-R', 'cat /new/log2', img]), Array.from({ length: 40 }, (_, i) => `line ${i + 1}\n`).join(''));
  assert.equal(await run('debugfs', ['-R', 'cat /new/copied/nested/deep.txt', img]), 'deep\n');
  assert.match(await run('debugfs', ['-R', 'stat /new/stamp', img]), /Mode:\s+0640/);
  assert.match(await run('debugfs', ['-R', 'ea_get /new/stamp user.color', img]), /blue/);
  assert.match(await run('debugfs', ['-R', 'stat /new/link', img]), /Fast link dest: "\.\.\/hello\.txt"/);
  assert.doesNotMatch(await run('debugfs', ['-R', 'ls /dir', img]), /f1\.txt/);
  await run('debugfs', ['-R', `dump /new/big-copy ${img}.big`, img]);
  assert.equal(await sha256(`${img}.big`), BIG_SHA);
});

test('vfat: read-write mount; fsck.fat -n and mtools read it back', T, async () => {
  const img = await copyImage(await fatImage(), 'mount-fat-rw');
  await withMount('fat', ['-a', img, '-m', '/dev/sda'], async (mnt) => {
    assert.match((await runStatus('fsck.fat', ['-n', img])).stdout, /Dirty bit is set/);
    await sh(workload(false), mnt);
    // Lookups are case-insensitive, as on Windows.
    assert.equal(await sh('cat HELLO.TXT', mnt), 'hello world\n');
    assert.equal((await guestunmount([mnt])).code, 0);
  });
  const fsck = await runStatus('fsck.fat', ['-n', img]);
  assert.equal(fsck.code, 0, fsck.stdout + fsck.stderr);
  const env = { ...process.env, MTOOLS_SKIP_CHECK: '1' };
  assert.equal(await run('mtype', ['-i', img, '::/new/copied/nested/deep.txt'], { env }), 'deep\n');
  assert.match(await run('mtype', ['-i', img, '::/new/log2'], { env }), /line 40\n$/);
});

test('ntfs: read-write mount; ntfsfix -n and ntfs-3g tools read it back', T, async () => {
  const img = await copyImage(await ntfsImage(), 'mount-ntfs-rw');
  await withMount('ntfs', ['-a', img, '-m', '/dev/sda'], async (mnt) => {
    await sh(workload(false), mnt);
    assert.equal(await sh('cat DIR/NESTED/DEEP.TXT', mnt), 'deep\n');
    assert.equal((await guestunmount([mnt])).code, 0);
  });
  await run('ntfsfix', ['-n', img]);
  assert.equal(await run('ntfscat', [img, '/new/copied/nested/deep.txt']), 'deep\n');
  assert.match(await run('ntfscat', [img, '/new/log2']), /line 40\n$/);
  assert.doesNotMatch(await run('ntfsls', [img, '-p', '/dir']), /f1\.txt/);
});

test('qcow2 (read-write) and streamOptimized VMDK (read-only) images mount', T, async () => {
  const base = await ext4Image();
  const q = await copyImage(await converted(base, 'mount-ext4.qcow2', ['-O', 'qcow2']), 'mount-qcow2-rw');
  await withMount('qcow2', ['--format=qcow2', '-a', q, '-m', '/dev/sda'], async (mnt) => {
    await sh('echo written > through-qcow2; sync', mnt);
    assert.equal((await guestunmount([mnt])).code, 0);
  });
  await run('qemu-img', ['check', q]);
  await run('qemu-img', ['convert', '-O', 'raw', q, `${q}.raw`]);
  assert.equal(await run('debugfs', ['-R', 'cat /through-qcow2', `${q}.raw`]), 'written\n');

  const vmdk = await converted(base, 'mount-ext4.vmdk', ['-O', 'vmdk', '-o', 'subformat=streamOptimized']);
  const before = await sha256(vmdk);
  await withMount('vmdk', ['-a', vmdk, '--ro', '-m', '/dev/sda'], async (mnt) => {
    assert.equal(await sh('sha256sum big.bin | cut -d" " -f1', mnt), `${BIG_SHA}\n`);
    await assert.rejects(sh('touch nope', mnt), /Read-only file system/);
  });
  assert.equal(await sha256(vmdk), before);
});

test('--ro writes not one byte, even when the ext4 journal needs replaying', T, async () => {
  const img = await copyImage(await dirtyJournalImage(), 'mount-dirty');
  const before = await sha256(img);
  await withMount('ro', ['-a', img, '--ro', '-m', '/dev/sda'], async (mnt) => {
    assert.match(await sh('cat hello.txt', mnt), /^journaled!\n/);
    await assert.rejects(sh('echo x > hello.txt', mnt), /Read-only file system/);
    assert.equal((await guestunmount([mnt])).code, 0);
  });
  assert.equal(await sha256(img), before);
});

test('-i on the Windows-like demo disk: drive letters as top-level folders, case-insensitive paths, hives readable', T, async () => {
  const disk = join(BIN, '..', '..', 'demo', 'windows.qcow2');
  await withMount('windows', ['-a', disk, '--ro', '-i'], async (mnt) => {
    assert.deepEqual((await sh('ls', mnt)).split('\n').filter(Boolean), ['C', 'D']);
    assert.equal(await sh('cat D/data/reports/Q1.TXT', mnt), 'Quarterly numbers, kept on drive D:.\r\n');
    const hive = join(mnt, 'C/windows/system32/config/system');
    assert.match(await run('hivexsh', ['-d', hive], { input: 'cd \\ControlSet001\\Control\\ComputerName\\ComputerName\nlsval\n' }), /"ComputerName"="DEMO-PC"/);
    assert.equal(await sh('ls -la C D >/dev/null && echo ok', mnt), 'ok\n');
  });
});

test('-i on a GPT + LVM Linux guest mounts the root LV, /boot and /home (an LV) where fstab says', T, async () => {
  const dir = await linuxImage();
  await withMount('linux', ['--format=raw', '-a', join(dir, 'disk.img'), '--ro', '-i'], async (mnt) => {
    assert.equal(await sh('cat etc/hostname', mnt), 'webserver\n');
    assert.equal(await sh('stat -c %s boot/vmlinuz-6.1.0-13-amd64', mnt), `${64 << 10}\n`);
    assert.equal(await sh('cat home/user/.profile', mnt), 'PATH=$HOME/bin:$PATH\n');
    assert.equal(await sh('df --output=fstype . boot home | tail -n +2 | sort -u', mnt), 'fuse.guestmount\n');
  });
});
