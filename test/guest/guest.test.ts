/** The front door's errors are typed and speak of the library; probing keeps its reasons. */
import assert from 'node:assert/strict';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { GuestError } from '../../guest/errors.js';
import { Guest } from '../../guest/guest.js';
import { dirtyJournalExt4, hostileExt4 } from '../cli/images.js';
import { scratch } from '../fixtures/cache.js';
import { run } from '../fixtures/run.js';

test('guest: errors are GuestErrors with a kind and an errno, naming no command-line option', async () => {
  await assert.rejects(Guest.open([]), (e: unknown) => {
    assert.ok(e instanceof GuestError);
    assert.deepEqual([e.kind, e.code, e.message], ['no-disks', 'EINVAL', 'no disk images given']);
    return true;
  });
  const guest = await Guest.open([{ path: await hostileExt4() }]);
  try {
    await assert.rejects(guest.mount('/dev/sdz', '/'), { name: 'GuestError', kind: 'no-device', code: 'ENOENT', message: '/dev/sdz: no such device (devices: /dev/sda)' });
    await assert.rejects(guest.mount('/dev/sda', '/', { fstype: 'zfs' }), { kind: 'unknown-fstype', code: 'EINVAL' });
    await assert.rejects(guest.mount('/dev/sda', '/', { writable: true }), { kind: 'read-only', code: 'EROFS' });
    assert.throws(() => guest.mounts.resolve('/etc'), { kind: 'not-mounted', message: '/etc: no filesystem is mounted there' });
    await guest.mount('/dev/sda', '/', { fstype: 'ext2' });
    assert.throws(() => guest.mounts.add('/', guest.mounts.list()[0]!.fs, '/dev/sda'), { kind: 'already-mounted', code: 'EBUSY' });
  } finally {
    await guest.close();
  }
});

test('guest: a filesystem that probes but cannot open keeps the reason; warnings are kept, not emitted', async () => {
  const dir = await scratch('guest-reason');
  const broken = join(dir, 'broken.img');
  await copyFile(await dirtyJournalExt4(), broken);
  await run('dd', ['if=/dev/zero', `of=${broken}`, 'bs=1', `seek=${1024 + 0x3fc}`, 'count=4', 'conv=notrunc', 'status=none']);
  const emitted: string[] = [];
  const onWarning = (w: Error) => emitted.push(w.message);
  process.on('warning', onWarning);
  const debug: string[] = [];
  const warned: string[] = [];
  const guest = await Guest.open([{ path: broken }, { path: await dirtyJournalExt4() }], { debug: (m) => debug.push(m), warn: (m) => warned.push(m) });
  try {
    const [sda, sdb] = await guest.filesystems();
    assert.equal(sda!.type, 'unknown');
    assert.equal(sda!.probed, 'ext4');
    assert.match(sda!.error!, new RegExp(`^EIO: ${broken}: ext4 superblock: checksum mismatch`));
    assert.ok(debug.includes(`/dev/sda: probed as ext4, but it cannot be opened: ${sda!.error}`), debug.join('\n'));
    assert.equal(sdb!.type, 'ext4');
    assert.equal(sdb!.error, undefined);
    await guest.mount('/dev/sdb', '/');
    assert.match(warned.join('\n'), /the journal needs recovery/);
  } finally {
    await guest.close();
    process.off('warning', onWarning);
  }
  assert.deepEqual(emitted, []);
});

test('guest: trace writes one line per call on the guest and its filesystems', async () => {
  const lines: string[] = [];
  const guest = await Guest.open([{ path: await hostileExt4() }], { trace: (l) => lines.push(l) });
  const fs = await guest.mount('/dev/sda', '/');
  await fs.readdir(fs.rootIno);
  await assert.rejects(fs.lookup(fs.rootIno, 'nope'));
  await guest.close();
  assert.equal(lines.length, 5, lines.join('\n'));
  assert.match(lines[0]!, /^Guest\.open\(".*disk\.img"\)$/);
  assert.match(lines[1]!, /^guest\.mount\("\/dev\/sda", "\/"\) = <ext4 filesystem>$/);
  assert.match(lines[2]!, /^\/dev\/sda\.readdir\(2\) = \[\d+ items\]$/);
  assert.match(lines[3]!, /^\/dev\/sda\.lookup\(2, "nope"\) = error: ENOENT/);
  assert.equal(lines[4], 'guest.close() = ok');
});
