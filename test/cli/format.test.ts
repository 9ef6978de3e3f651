import assert from 'node:assert/strict';
import { test } from 'node:test';
import { humanSize } from '../../cli/human.js';
import { formatCsv, formatText } from '../../cli/table.js';
import { modeString, recordLine } from '../../cli/listing.js';
import { parse, parseMountSpec } from '../../cli/common.js';
import { diskOptions } from '../../cli/common.js';

test('humanSize prints as gnulib human_readable with base 1024, rounding to nearest', () => {
  assert.equal(humanSize(512n), '512');
  assert.equal(humanSize(1024n), '1.0K');
  assert.equal(humanSize(100n * 1024n * 1024n), '100M');
  assert.equal(humanSize(99n * 1024n * 1024n + 600n * 1024n), '100M');
  assert.equal(humanSize(1536n * 1024n * 1024n), '1.5G');
  assert.equal(humanSize(7n << 60n), '7.0E');
  assert.equal(humanSize((1024n * 1024n) - 1n), '1.0M');
});

test('text table: aligned columns, "-" for empty, empty columns dropped', () => {
  const out = formatText([
    ['Name', 'Type', undefined],
    ['/dev/sda1', 'filesystem', undefined],
    ['/dev/sda', '', undefined],
  ]);
  assert.equal(out, 'Name       Type\n/dev/sda1  filesystem\n/dev/sda   -\n');
});

test('csv quotes only fields that need it', () => {
  assert.equal(formatCsv([['a b', 'c"d', undefined, 'e']]), '"a b","c""d",,e\n');
});

test('--format applies to the -a options after it', () => {
  const { disks } = parse(['-a', 'x.img', '--format=qcow2', '-a', 'y', '--format=auto', '-a', 'z'], diskOptions);
  assert.deepEqual(disks, [{ path: 'x.img', format: undefined }, { path: 'y', format: 'qcow2' }, { path: 'z', format: undefined }]);
});

test('-m specs split into device, mountpoint, options and type', () => {
  assert.deepEqual(parseMountSpec('/dev/sda1:/boot:ro:ext4'), { device: '/dev/sda1', mountpoint: '/boot', options: 'ro', fstype: 'ext4' });
  assert.deepEqual(parseMountSpec('/dev/vg0/root'), { device: '/dev/vg0/root', mountpoint: '/', options: undefined, fstype: undefined });
});

test('listing formats', () => {
  assert.equal(modeString(0o104755), '-rwsr-xr-x');
  assert.equal(modeString(0o41777), 'drwxrwxrwt');
  const attr = { ino: 1, mode: 0o120777, nlink: 1, uid: 0, gid: 0, size: 7, blocks: 0, atime: { sec: 0, nsec: 0 }, mtime: { sec: 0, nsec: 0 }, ctime: { sec: 0, nsec: 0 }, rdev: 0 };
  assert.equal(recordLine('/etc/motd', attr, 'x'), 'l 0777          7 /etc/motd -> x');
});
