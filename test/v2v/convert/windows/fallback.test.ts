import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { scratch } from '../../../fixtures/cache.js';
import { fakeBytes, virtioWinIso } from '../../images/virtio-win.js';
import { WIN2K19, WIN7, windowsGuest, type WindowsGuest } from '../../images/windows-guest.js';
import { checkedHiveDiff, convert, exportHive, ntfscat, ntfsfixClean, ntfsls, systemDrive, type Conversion } from './helpers.js';

const GP = 'Microsoft\\Windows\\CurrentVersion\\Group Policy';

async function run(guest: WindowsGuest, name: string, virtioWin: string | undefined, dirs: string[]): Promise<Conversion & { c: string; dir: string }> {
  const dir = await scratch(`v2v-windows-${name}`);
  dirs.push(dir);
  const conv = await convert(guest, dir, virtioWin);
  const c = await systemDrive(conv.overlay, dir);
  const fix = await ntfsfixClean(c);
  assert.equal(fix.code, 0, fix.out);
  return { ...conv, c, dir };
}

describe('virt-v2v Windows conversion without virtio drivers', () => {
  const dirs: string[] = [];
  after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  test('no VIRTIO_WIN: a warning, SATA with storahci at boot, e1000, and still the VMware Tools uninstall', async () => {
    const guest = await windowsGuest(WIN2K19);
    const r = await run(guest, 'fallback', undefined, dirs);
    assert.equal(r.converted.diskBus, 'sata');
    assert.equal(r.converted.nicModel, 'e1000');
    assert.equal(r.converted.guestAgent, false);
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0]!, /no virtio-win drivers given \(VIRTIO_WIN=DIR\|ISO\).*SATA or IDE/);
    const sys = await checkedHiveDiff(r, guest, 'SYSTEM');
    assert.deepEqual(sys.addedKeys, []);
    assert.deepEqual(sys.values, ['ControlSet002\\Control\\CrashControl\\AutoReboot', 'ControlSet002\\Services\\storahci\\Start']);
    const soft = await checkedHiveDiff(r, guest, 'SOFTWARE');
    assert.ok(soft.values.every((v) => v.startsWith(`${GP}\\`)), 'no DevicePath change without drivers');
    assert.deepEqual(await ntfsls(r.c, '/Program Files/Guestkit/Firstboot/scripts'), ['0001-uninstall-vmware-tools.bat']);
    assert.ok(!r.report.some((l) => l.includes('Drivers\\VirtIO')));
  });

  test('a virtio-win without drivers for this Windows: warned, the same fallback', async () => {
    const guest = await windowsGuest(WIN2K19);
    const vw = await scratch('virtio-win-w10-only');
    dirs.push(vw);
    await mkdir(join(vw, 'viostor', 'w10', 'amd64'), { recursive: true });
    await writeFile(join(vw, 'viostor', 'w10', 'amd64', 'viostor.sys'), fakeBytes('viostor/w10/amd64/viostor.sys'));
    const r = await run(guest, 'nodrivers', vw, dirs);
    assert.equal(r.converted.diskBus, 'sata');
    assert.equal(r.converted.nicModel, 'e1000');
    assert.ok(r.warnings.some((w) => w.includes(`${vw}: no virtio drivers for this Windows (win2k19 x86_64)`)), r.warnings.join('\n'));
    assert.ok(r.warnings.some((w) => w.includes('no qemu-guest-agent MSI')), r.warnings.join('\n'));
  });
});

describe('virt-v2v Windows conversion: Windows 7 from a virtio-win ISO', () => {
  const dirs: string[] = [];
  after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  test('CriticalDeviceDatabase entries (no DriverDatabase before Windows 8), the w7/amd64 drivers from the ISO', async () => {
    const guest = await windowsGuest(WIN7);
    const r = await run(guest, 'win7', await virtioWinIso('both'), dirs);
    assert.equal(r.os.osinfo, 'win7');
    assert.equal(r.converted.diskBus, 'virtio');
    assert.deepEqual(r.warnings, []);
    const sys = await checkedHiveDiff(r, guest, 'SYSTEM');
    const cdd = 'ControlSet002\\Control\\CriticalDeviceDatabase';
    const ids = ['PCI#VEN_1AF4&DEV_1001&REV_00', 'PCI#VEN_1AF4&DEV_1042&REV_01'];
    assert.deepEqual(sys.addedKeys, [cdd, ...ids.map((i) => `${cdd}\\${i}`), 'ControlSet002\\Services\\viostor'].sort());
    assert.ok(!sys.values.some((v) => v.startsWith('DriverDatabase')));
    const after = await exportHive(join(r.dir, 'SYSTEM.after'));
    for (const id of ids) {
      const k = after.get(`${cdd}\\${id}`)!;
      assert.deepEqual([...k.keys()].sort(), ['ClassGUID', 'Service']);
    }
    assert.ok((await ntfscat(r.c, '/Windows/Drivers/VirtIO/netkvm.sys')).equals(fakeBytes('NetKVM/w7/amd64/netkvm.sys')));
    assert.ok((await ntfscat(r.c, '/Windows/System32/drivers/viostor.sys')).equals(fakeBytes('viostor/w7/amd64/viostor.sys')));
    assert.ok((await ntfsls(r.c, '/Windows/Drivers/VirtIO')).every((n) => /\.(sys|inf|cat|exe)$/.test(n)), 'no .pdb');
  });
});
