import assert from 'node:assert/strict';
import { copyFile, mkdir, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { scratch } from '../../../fixtures/cache.js';
import { IsoError } from '../../../../v2v/convert/windows/virtio-win/iso9660.js';
import { runStatus } from '../../../fixtures/run.js';
import { fakeBytes, virtioWinDir, virtioWinIso } from '../../images/virtio-win.js';
import { OLD_SCRIPTS_INI, WIN2K19, WIN7, windowsGuest, type WindowsGuest } from '../../images/windows-guest.js';
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

  test('a medium with vioscsi and no viostor: the vioscsi service, its PCI IDs, a SCSI bus', async () => {
    const guest = await windowsGuest(WIN2K19);
    const vw = await scratch('virtio-win-vioscsi-only');
    dirs.push(vw);
    await mkdir(join(vw, 'vioscsi', '2k19', 'amd64'), { recursive: true });
    for (const ext of ['sys', 'inf', 'cat']) await writeFile(join(vw, 'vioscsi', '2k19', 'amd64', `vioscsi.${ext}`), fakeBytes(`vioscsi/2k19/amd64/vioscsi.${ext}`));
    const r = await run(guest, 'vioscsi', vw, dirs);
    assert.equal(r.converted.diskBus, 'scsi');
    assert.equal(r.converted.nicModel, 'e1000');
    assert.ok(r.warnings.some((w) => w.includes('no virtio network driver (netkvm)')), r.warnings.join('\n'));
    const sys = await checkedHiveDiff(r, guest, 'SYSTEM');
    assert.ok(sys.addedKeys.includes('ControlSet002\\Services\\vioscsi'));
    assert.ok(sys.addedKeys.includes('DriverDatabase\\DeviceIds\\PCI\\VEN_1AF4&DEV_1004&REV_00'));
    assert.ok(sys.addedKeys.includes('DriverDatabase\\DeviceIds\\PCI\\VEN_1AF4&DEV_1048&REV_01'));
    assert.ok(!sys.addedKeys.some((k) => k.includes('DEV_1001')));
    assert.ok((await ntfscat(r.c, '/Windows/System32/drivers/vioscsi.sys')).equals(fakeBytes('vioscsi/2k19/amd64/vioscsi.sys')));
  });
});

describe('virt-v2v Windows conversion: Windows 7 from a virtio-win ISO', () => {
  const dirs: string[] = [];
  after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  let win7: (Conversion & { c: string; dir: string }) | undefined;
  let guest7: WindowsGuest | undefined;

  test('CriticalDeviceDatabase entries (no DriverDatabase before Windows 8), the w7/amd64 drivers from the ISO', async () => {
    const guest = (guest7 = await windowsGuest(WIN7));
    const r = (win7 = await run(guest, 'win7', await virtioWinIso('both'), dirs));
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

  test('the local startup script already there is kept: ours runs after it, and is removed alone when done', async () => {
    const r = win7!;
    const soft = await checkedHiveDiff(r, guest7!, 'SOFTWARE');
    const ours = [`${GP}\\Scripts\\Startup\\0\\1`, `${GP}\\State\\Machine\\Scripts\\Startup\\0\\1`];
    assert.deepEqual(soft.addedKeys, ours, 'the existing LocalGPO keys are reused');
    assert.deepEqual(soft.values.filter((v) => !v.endsWith('DevicePath')), ours.flatMap((k) => ['ExecTime', 'IsPowershell', 'Parameters', 'Script'].map((v) => `${k}\\${v}`)).sort());
    const ini = (await ntfscat(r.c, '/Windows/System32/GroupPolicy/Machine/Scripts/scripts.ini')).toString('latin1');
    assert.equal(ini, `${OLD_SCRIPTS_INI}1CmdLine=C:\\Program Files\\Guestkit\\Firstboot\\firstboot.bat\r\n1Parameters=\r\n`, 'still ANSI, the old script first');
    assert.equal((await ntfscat(r.c, '/Program Files/Guestkit/Firstboot/scripts.ini.orig')).toString('latin1'), OLD_SCRIPTS_INI);
    assert.match((await ntfscat(r.c, '/Windows/System32/GroupPolicy/gpt.ini')).toString('latin1'), /\r\nVersion=131073\r\n/);
    const control = (await ntfscat(r.c, '/Program Files/Guestkit/Firstboot/firstboot.bat')).toString('latin1');
    for (const k of ours) assert.ok(control.includes(`reg delete "HKLM\\SOFTWARE\\${k}" /f`), k);
    assert.match(control, /copy \/y "%firstboot%\\scripts\.ini\.orig" "C:\\Windows\\System32\\GroupPolicy\\Machine\\Scripts\\scripts\.ini"/);
  });
});

describe('virt-v2v Windows conversion refuses bad input before writing anything', () => {
  const dirs: string[] = [];
  after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  const unchanged = async (overlay: string, disk: string) => {
    const cmp = await runStatus('qemu-img', ['compare', '-f', 'qcow2', '-F', 'raw', overlay, disk]);
    assert.equal(cmp.code, 0, `the overlay differs from the source: ${cmp.stdout}${cmp.stderr}`);
  };

  test('a dirty SYSTEM hive: a clear error, the guest untouched', async () => {
    const guest = await windowsGuest({ ...WIN2K19, id: 'win2k19-dirty', dirtySystem: true });
    const dir = await scratch('v2v-windows-dirty');
    dirs.push(dir);
    await assert.rejects(convert(guest, dir, await virtioWinDir()), /\/Windows\/System32\/config\/SYSTEM: the hive has changes waiting in its \.LOG1\/\.LOG2 files/);
    await unchanged(join(dir, 'overlay.qcow2'), guest.disk);
  });

  test('a truncated virtio-win ISO: the ISO error, the guest untouched', async () => {
    const guest = await windowsGuest(WIN2K19);
    const dir = await scratch('v2v-windows-bad-iso');
    dirs.push(dir);
    const iso = join(dir, 'short.iso');
    await copyFile(await virtioWinIso('joliet'), iso);
    await truncate(iso, 40_000);
    await assert.rejects(convert(guest, dir, iso), (e: Error) => e instanceof IsoError && e.message.startsWith(`${iso}: ISO 9660 `));
    await unchanged(join(dir, 'overlay.qcow2'), guest.disk);
  });
});
