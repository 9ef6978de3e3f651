import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Guest } from '../../guest/guest.js';
import { inspectGuest } from '../../inspect/inspect.js';
import { APPS, APPS32, SPECS, windowsImage } from './windows-image.js';

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
