/** -V, -v, -x, -i and -m's fstype do what libguestfs's do, or are refused: never accepted and ignored. */
import assert from 'node:assert/strict';
import { copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { toolStatus } from '../e2e/tools.js';
import { scratch } from '../fixtures/cache.js';
import { run, runStatus } from '../fixtures/run.js';
import { BIN } from '../e2e/tools.js';
import { dirtyJournalExt4, hostileExt4 } from './images.js';

const TOOLS = ['virt-filesystems', 'virt-ls', 'virt-cat'];

test('-V and --version print the name and the package version', async () => {
  const pkg = JSON.parse(await readFile(join(BIN, '..', '..', 'package.json'), 'utf8')) as { version: string };
  for (const t of TOOLS) {
    for (const flag of ['-V', '--version']) {
      const r = await toolStatus(t, [flag]);
      assert.deepEqual(r, { code: 0, stdout: `${t} ${pkg.version}\n`, stderr: '' }, `${t} ${flag}`);
    }
  }
});

test('-i inspects and mounts what the guest mounts, as with no -m', async () => {
  const image = await hostileExt4();
  const inspected = await toolStatus('virt-ls', ['-a', image, '-i', '/']);
  const plain = await toolStatus('virt-ls', ['-a', image, '/']);
  assert.equal(inspected.code, 0, inspected.stderr);
  assert.notEqual(inspected.stdout, '');
  assert.deepEqual(inspected, plain);
});

test('-v tells why a filesystem that probed could not be opened; without -v nothing is said', async () => {
  const dir = await scratch('cli-verbose');
  const image = join(dir, 'disk.img');
  await copyFile(await dirtyJournalExt4(), image);
  // Break the superblock checksum (metadata_csum): ext4 still probes, but will not open.
  await run('dd', ['if=/dev/zero', `of=${image}`, 'bs=1', `seek=${1024 + 0x3fc}`, 'count=4', 'conv=notrunc', 'status=none']);
  const quiet = await toolStatus('virt-filesystems', ['-a', image, '--all']);
  // Listed twice with --all: as an unknown filesystem and as the device.
  assert.deepEqual(quiet, { code: 0, stdout: '/dev/sda\n/dev/sda\n', stderr: '' });
  const r = await toolStatus('virt-filesystems', ['-a', image, '--all', '-v']);
  assert.equal(r.stdout, quiet.stdout);
  assert.match(r.stderr, /^virt-filesystems: verbose: \/dev\/sda: .*disk\.img, 8388608 bytes$/m);
  assert.match(r.stderr, new RegExp(`^virt-filesystems: verbose: /dev/sda: probed as ext4, but it cannot be opened: EIO: ${image}: ext4 superblock: checksum mismatch`, 'm'));
});

test('-x traces one line per Guest and Filesystem call on stderr; without -x none', async () => {
  const image = await hostileExt4();
  const plain = await toolStatus('virt-cat', ['-a', image, '/etc/fstab']);
  assert.deepEqual(plain, { code: 0, stdout: 'hi\n', stderr: '' });
  const r = await toolStatus('virt-cat', ['-a', image, '-x', '/etc/fstab']);
  assert.equal(r.stdout, 'hi\n');
  const lines = r.stderr.trimEnd().split('\n');
  assert.ok(lines.every((l) => l.startsWith('virt-cat: trace: ')), r.stderr);
  assert.equal(lines[0], `virt-cat: trace: Guest.open(${JSON.stringify(image)})`);
  assert.ok(lines.includes('virt-cat: trace: guest.filesystems() = [1 items]'), r.stderr);
  assert.ok(lines.some((l) => /^virt-cat: trace: guest\.mount\("\/dev\/sda", "\/"\) = <ext4 filesystem>$/.test(l)), r.stderr);
  assert.ok(lines.some((l) => /^virt-cat: trace: \/dev\/sda\.lookup\(\d+, "fstab"\) = \{ino: \d+, mode: 0o100644, size: 3\}$/.test(l)), r.stderr);
  // virt-cat reads into its own buffer: the buffer shows as its size, the result as the count.
  assert.ok(lines.some((l) => /^virt-cat: trace: \/dev\/sda\.readInto\(\d+, 0, <3 bytes>\) = 3$/.test(l)), r.stderr);
  assert.equal(lines.at(-1), 'virt-cat: trace: guest.close() = ok');
});

test('-m DEV:MNT:OPTS:FSTYPE forces the driver; an unknown type is refused', async () => {
  const image = await hostileExt4();
  const ext3 = await toolStatus('virt-cat', ['-a', image, '-m', '/dev/sda:/::ext3', '/etc/fstab']);
  assert.deepEqual(ext3, { code: 0, stdout: 'hi\n', stderr: '' });
  // Forced to FAT, the ext4 is read by the FAT driver, which refuses it.
  const vfat = await toolStatus('virt-ls', ['-a', image, '-m', '/dev/sda:/::vfat', '/']);
  assert.equal(vfat.code, 1);
  assert.match(vfat.stderr, /^virt-ls: EIO: .*disk\.img: FAT boot sector: /);
  const xfs = await toolStatus('virt-ls', ['-a', image, '-m', '/dev/sda:/::xfs', '/']);
  assert.equal(xfs.code, 1);
  assert.equal(xfs.stderr, 'virt-ls: unknown filesystem type "xfs" (known: ext2, ext3, ext4, ntfs, ntfs3, vfat, msdos, fat); it is the fourth field of -m DEVICE:MOUNTPOINT:OPTIONS:FSTYPE\n');
});

test('the ext4 journal warning comes through the tool, not as a Node process warning', async () => {
  const image = await dirtyJournalExt4();
  const r = await toolStatus('virt-cat', ['-a', image, '/a.txt']);
  assert.equal(r.code, 0);
  // The journal's copy of the block, cut to the file's 9 bytes.
  assert.equal(r.stdout, 'journaled');
  assert.equal(r.stderr, `virt-cat: warning: ${image}: the journal needs recovery; reading through an in-memory replay of 1 transaction(s), the image is not changed\n`);
});

test('a FIFO or a directory given as -a is refused naming it, without blocking', async () => {
  const dir = await scratch('cli-fifo');
  const fifo = join(dir, 'fifo');
  await run('mkfifo', [fifo]);
  const r = await runStatus('timeout', ['60', process.execPath, join(BIN, 'virt-filesystems.js'), '-a', fifo]);
  assert.deepEqual(r, { code: 1, stdout: '', stderr: `virt-filesystems: ${fifo}: is a FIFO, not a disk image (only regular files and block devices can be opened)\n` });
  const d = await toolStatus('virt-filesystems', ['-a', dir]);
  assert.deepEqual(d, { code: 1, stdout: '', stderr: `virt-filesystems: ${dir}: is a directory, not a disk image (only regular files and block devices can be opened)\n` });
});
