import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { Guest } from '../../guest/guest.js';
import { inspectGuest } from '../../inspect/inspect.js';
import { fixture } from '../fixtures/cache.js';
import { run } from '../fixtures/run.js';
import { place } from '../e2e/tools.js';
import { withNtfs3g } from '../fs/ntfs/images.js';
import { changedPages, dirtyPrimary, hvle, logBaseBlock } from './hive/logs.js';
import { APPS, APPS32, LAYOUT, SPECS, windowsImage } from './windows-image.js';

for (const scheme of ['mbr', 'gpt'] as const) {
  const spec = SPECS[scheme];
  test(`Windows on ${scheme.toUpperCase()}: registry facts, cmd.exe's arch, drive letters from MountedDevices, both Uninstall keys`, async () => {
    const dir = await windowsImage(spec);
    const guest = await Guest.open([{ path: join(dir, 'disk.img'), format: 'raw' }]);
    try {
      const { oses, warnings } = await inspectGuest(guest);
      assert.deepEqual(warnings, []);
      assert.equal(oses.length, 1);
      const { applications, ...os } = oses[0]!;
      assert.deepEqual(os, {
        root: '/dev/sda2', type: 'windows', distro: 'windows', productName: spec.productName, productVariant: spec.installationType,
        majorVersion: 10, minorVersion: 0, arch: 'x86_64', hostname: 'WIN-FILESRV01', packageFormat: '', packageManagement: '',
        osinfo: scheme === 'mbr' ? 'win2k19' : 'win10',
        windowsSystemroot: '/Windows', windowsCurrentControlSet: 'ControlSet002', windowsEdition: spec.edition, windowsBuild: spec.build,
        mountpoints: [{ mountpoint: '/', device: '/dev/sda2' }],
        // System Reserved (sda1) has a volume name but no letter; E: is a CD drive we do not hold.
        driveLetters: [{ letter: 'C', device: '/dev/sda2' }, { letter: 'D', device: '/dev/sda3' }],
        filesystems: [{ device: '/dev/sda2', type: 'ntfs', label: 'Windows', uuid: os.filesystems[0]!.uuid }],
      });
      assert.match(os.filesystems[0]!.uuid, /^[0-9A-F]{16}$/);
      const all: [string, Record<string, string>][] = [...Object.entries(APPS), ...Object.entries(APPS32)];
      const want = all.map(([name, v]) => ({
        name, displayName: v['DisplayName'], version: v['DisplayVersion'], publisher: v['Publisher'],
        ...(v['InstallLocation'] ? { installPath: v['InstallLocation'] } : {}),
        ...(v['URLInfoAbout'] ? { url: v['URLInfoAbout'], description: v['Comments'] } : {}),
      }));
      assert.deepEqual(applications, want);
    } finally {
      await guest.close();
    }
  });
}

const MiB = 1 << 20;

/**
 * The MBR guest with a dirty SYSTEM hive: the hostname change Windows had logged to
 * SYSTEM.LOG1 (a hand-written HvLE entry) but not yet written to the hive.
 */
function dirtySystemImage(): Promise<string> {
  return fixture('inspect-windows-dirty-system', 'v1 REPLAYED-NAME in SYSTEM.LOG1', async (out) => {
    const src = await windowsImage(SPECS.mbr);
    await run('mkdir', ['-p', out]);
    const after = join(out, 'SYSTEM.after');
    await copyFile(join(src, 'SYSTEM'), after);
    await writeFile(`${after}.reg`, 'Windows Registry Editor Version 5.00\n\n[\\ControlSet002\\Services\\Tcpip\\Parameters]\n"Hostname"="REPLAYED-NAME"\n');
    await run('hivexregedit', ['--merge', after, `${after}.reg`]);
    const before = await readFile(join(src, 'SYSTEM'));
    const changed = await readFile(after);
    const primary = dirtyPrimary(before);
    const seq = primary.readUInt32LE(8);
    const bins = changed.readUInt32LE(40);
    await writeFile(join(out, 'SYSTEM'), primary);
    await writeFile(join(out, 'SYSTEM.LOG1'), Buffer.concat([logBaseBlock(changed, 6, seq, bins), hvle(seq, bins, changedPages(before, changed, 4096))]));
    await rm(after);
    await rm(`${after}.reg`);
    const c = join(out, 'c.img');
    await copyFile(join(src, 'p2.img'), c);
    await withNtfs3g(c, 'rw', async (m) => {
      await copyFile(join(out, 'SYSTEM'), join(m, 'Windows', 'System32', 'config', 'SYSTEM'));
      await copyFile(join(out, 'SYSTEM.LOG1'), join(m, 'Windows', 'System32', 'config', 'SYSTEM.LOG1'));
    });
    await copyFile(join(src, 'disk.img'), join(out, 'disk.img'));
    await place(c, join(out, 'disk.img'), 0, LAYOUT[1][0] * MiB, LAYOUT[1][1] * MiB);
    await rm(c);
  });
}

test('a dirty SYSTEM hive is read with its .LOG1 replayed in memory, and the image is not written', async () => {
  const disk = join(await dirtySystemImage(), 'disk.img');
  const sum = async () => createHash('sha256').update(await readFile(disk)).digest('hex');
  const before = await sum();
  const guest = await Guest.open([{ path: disk, format: 'raw' }]);
  try {
    const { oses, warnings } = await inspectGuest(guest);
    assert.equal(oses[0]!.hostname, 'REPLAYED-NAME');
    assert.equal(oses[0]!.driveLetters.length, 2, 'the rest of SYSTEM reads as before');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /^\/dev\/sda2: \/Windows\/System32\/config\/SYSTEM: hive is dirty: replayed in memory SYSTEM\.LOG1: 1 entry \(sequence \d+\)$/);
  } finally {
    await guest.close();
  }
  assert.equal(await sum(), before);
});
