/** Descriptor files: hostile names, missing files, sizes that do not add up, what we refuse. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { openDisk } from '../../../disk/open.js';
import { scratch } from '../../fixtures/cache.js';
import { hashDevice, run } from '../../fixtures/run.js';
import { pattern } from './images.js';

/** A scratch dir with `disk.vmdk` holding these extent lines, and an 8 KiB `data-flat.vmdk`. */
async function descriptor(name: string, extentLines: string[], extra: string[] = [], eol = '\n'): Promise<string> {
  const dir = await scratch(name);
  await writeFile(join(dir, 'data-flat.vmdk'), pattern(51, 8192));
  const lines = ['# Disk DescriptorFile', 'version=1', 'CID=fffffffe', 'parentCID=ffffffff', ...extra, 'createType="monolithicFlat"', '', '# Extent description', ...extentLines, ''];
  const path = join(dir, 'disk.vmdk');
  await writeFile(path, lines.join(eol));
  return path;
}

async function refused(path: string, message: string, code = 'EIO'): Promise<void> {
  await assert.rejects(openDisk(path), (e: Error & { code?: string }) => {
    assert.equal(e.message, message);
    assert.equal(e.code, code);
    return true;
  });
}

test('vmdk descriptor: CRLF lines, comments and quoted values are read', async () => {
  const path = await descriptor('vmdk-crlf', ['RW 16 FLAT "data-flat.vmdk" 0'], ['# a comment', 'ddb.uuid = "60 00"'], '\r\n');
  const dev = await openDisk(path);
  assert.deepEqual(await dev.read(0n, 8192), pattern(51, 8192));
  await dev.close();
});

test('vmdk descriptor: a missing extent file', async () => {
  const path = await descriptor('vmdk-missing', ['RW 16 FLAT "gone-flat.vmdk" 0']);
  const missing = join(path, '..', 'gone-flat.vmdk');
  await refused(path, `${path}: VMDK descriptor line 8: cannot open extent file "gone-flat.vmdk": cannot open: ENOENT: no such file or directory, open '${missing}'`, 'ENOENT');
});

test('vmdk descriptor: absolute and escaping extent names are refused', async () => {
  let path = await descriptor('vmdk-abs', ['RW 16 FLAT "/etc/passwd" 0']);
  await refused(path, `${path}: VMDK descriptor line 8: extent file "/etc/passwd" is an absolute path; only names relative to the descriptor's directory are allowed`);
  path = await descriptor('vmdk-escape', ['RW 16 FLAT "sub/../../data-flat.vmdk" 0']);
  await refused(path, `${path}: VMDK descriptor line 8: extent file "sub/../../data-flat.vmdk" is outside the descriptor's directory`);
  path = await descriptor('vmdk-drive', ['RW 16 FLAT "C:\\\\vms\\\\disk-flat.vmdk" 0']);
  await refused(path, `${path}: VMDK descriptor line 8: extent file "C:\\\\vms\\\\disk-flat.vmdk" is an absolute path; only names relative to the descriptor's directory are allowed`);
});

test('vmdk descriptor: symlinks out of the directory and non-files are refused', async () => {
  let path = await descriptor('vmdk-symlink', ['RW 1 FLAT "link-flat.vmdk" 0']);
  await symlink('/etc/hostname', join(path, '..', 'link-flat.vmdk'));
  await refused(path, `${path}: VMDK descriptor line 8: extent file "link-flat.vmdk" leads outside the descriptor's directory (to /etc/hostname)`);
  path = await descriptor('vmdk-fifo', ['RW 1 FLAT "fifo-flat.vmdk" 0']);
  await run('mkfifo', [join(path, '..', 'fifo-flat.vmdk')]);
  await refused(path, `${path}: VMDK descriptor line 8: extent file "fifo-flat.vmdk" is not a regular file`);
  // A symlink that stays inside the directory is fine.
  path = await descriptor('vmdk-symlink-in', ['RW 16 FLAT "alias-flat.vmdk" 0']);
  await symlink('data-flat.vmdk', join(path, '..', 'alias-flat.vmdk'));
  const dev = await openDisk(path);
  assert.deepEqual(await dev.read(0n, 8192), pattern(51, 8192));
  await dev.close();
});

test('vmdk descriptor: extents whose sizes do not add up', async () => {
  // The flat file holds 16 sectors; the descriptor asks for 17, or 16 from sector 1.
  let path = await descriptor('vmdk-flat-short', ['RW 17 FLAT "data-flat.vmdk" 0']);
  await refused(path, `${path}: VMDK descriptor line 8: FLAT extent "data-flat.vmdk" is 8192 bytes, too small for 17 sectors from sector 0`);
  path = await descriptor('vmdk-flat-offset', ['RW 8 FLAT "data-flat.vmdk" 0', 'RW 16 VMFS "data-flat.vmdk" 1']);
  await refused(path, `${path}: VMDK descriptor line 9: VMFS extent "data-flat.vmdk" is 8192 bytes, too small for 16 sectors from sector 1`);
  // A sparse extent smaller than its descriptor line.
  path = await descriptor('vmdk-sparse-short', ['RW 16 FLAT "data-flat.vmdk" 0', 'RW 4096 SPARSE "s.vmdk"']);
  await run('qemu-img', ['create', '-q', '-f', 'vmdk', join(path, '..', 's.vmdk'), '1M']);
  await refused(path, `${join(path, '..', 's.vmdk')}: sparse extent holds 2048 sectors but the descriptor gives it 4096`);
});

test('vmdk descriptor: unsupported extents, nameless parents and malformed lines are refused clearly', async () => {
  let path = await descriptor('vmdk-cowd', ['RW 16 VMFSSPARSE "data-delta.vmdk"']);
  await refused(path, `${path}: VMDK descriptor line 8: ESX snapshot (COWD) extents are not supported`);
  path = await descriptor('vmdk-rdm', ['RW 16 VMFSRDM "data-rdm.vmdk"']);
  await refused(path, `${path}: VMDK descriptor line 8: raw device mappings name host devices and are not supported`);
  path = await descriptor('vmdk-bad-line', ['RW sixteen FLAT "data-flat.vmdk" 0']);
  await refused(path, `${path}: VMDK descriptor line 8: extent line not understood: "RW sixteen FLAT \\"data-flat.vmdk\\" 0"`);
  path = await descriptor('vmdk-no-extents', []);
  await refused(path, `${path}: VMDK descriptor lists no extents`);
  path = await descriptor('vmdk-parent', ['RW 16 FLAT "data-flat.vmdk" 0'], ['parentCID=12345678']);
  await refused(path, `${path}: VMDK descriptor has parentCID=12345678 but no parentFileNameHint naming the parent`);
});

test('vmdk descriptor: caps on size and number of extents', async () => {
  const many = Array.from({ length: 4097 }, () => 'RW 1 ZERO');
  let path = await descriptor('vmdk-many', many);
  await refused(path, `${path}: VMDK descriptor line 4104: more than 4096 extents`);
  path = await descriptor('vmdk-big', ['RW 16 FLAT "data-flat.vmdk" 0'], [`ddb.comment = "${'x'.repeat(70_000)}"`]);
  const size = (await readFile(path)).length;
  await refused(path, `${path}: file of ${size} bytes starts like a VMDK descriptor but is larger than 65536 bytes`);
});

test('vmdk: opening for writing is refused and writes not one byte', async () => {
  const path = await descriptor('vmdk-rw', ['RW 16 FLAT "data-flat.vmdk" 0']);
  const sparse = join(path, '..', 's.vmdk');
  await run('qemu-img', ['create', '-q', '-f', 'vmdk', sparse, '1M']);
  const before = createHash('sha256').update(await readFile(sparse)).digest('hex');
  await assert.rejects(openDisk(sparse, { writable: true }), (e: Error & { code?: string }) => {
    assert.equal(e.message, `${sparse}: VMDK images can only be opened read-only`);
    assert.equal(e.code, 'EROFS');
    return true;
  });
  const dev = await openDisk(path);
  await assert.rejects(dev.write(0n, Buffer.alloc(512)), /device is read-only/);
  assert.equal(await hashDevice(await openDisk(sparse)), createHash('sha256').update(Buffer.alloc(1 << 20)).digest('hex'));
  await dev.close();
  assert.equal(createHash('sha256').update(await readFile(sparse)).digest('hex'), before);
});

test('vmdk: a descriptor forced as raw is only its own bytes', async () => {
  const path = await descriptor('vmdk-as-raw', ['RW 16 FLAT "data-flat.vmdk" 0']);
  const dev = await openDisk(path, { format: 'raw' });
  const text = await readFile(path);
  assert.equal(dev.size, BigInt(text.length));
  assert.deepEqual(await dev.read(0n, text.length), text);
  await dev.close();
});
