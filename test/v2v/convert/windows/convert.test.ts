import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Guest } from '../../../../guest/guest.js';
import { inspectGuest, onlyOs } from '../../../../inspect/inspect.js';
import { scratch } from '../../../fixtures/cache.js';
import { VMWARE_TOOLS_KEY, WIN2K19, windowsGuest, HOSTNAME, type WindowsGuest } from '../../images/windows-guest.js';
import { fakeBytes, virtioWinDir } from '../../images/virtio-win.js';
import { checkedHiveDiff, convert, exportHive, ntfscat, ntfsfixClean, ntfsls, sha256, systemDrive, type Conversion } from './helpers.js';

const PCI = ['VEN_1AF4&DEV_1001&REV_00', 'VEN_1AF4&DEV_1042&REV_01'];
const PKG = 'guestor.inf_amd64_0000000000000000';
const GP = 'Microsoft\\Windows\\CurrentVersion\\Group Policy';
const FIRSTBOOT = '/Program Files/Guestkit/Firstboot';

interface Result extends Conversion {
  c: string;
  virtioWin: string | undefined;
  dir: string;
}

async function convertAndOpen(guest: WindowsGuest, name: string, virtioWin: string | undefined): Promise<Result> {
  const dir = await scratch(`v2v-windows-${name}`);
  const sum = await sha256(guest.disk);
  const conv = await convert(guest, dir, virtioWin);
  assert.equal(await sha256(guest.disk), sum, 'the source image is never written');
  return { ...conv, c: await systemDrive(conv.overlay, dir), dir, virtioWin };
}

/** The keys from the root to each of these, as "added" lists them (parents first, sorted). */
/** A string value as hivexregedit exports it (type 1 or 2 in hex, NUL-terminated UTF-16LE). */
const regString = (type: 1 | 2, s: string): string => `hex(${type}):${[...Buffer.from(`${s}\0`, 'utf16le')].map((b) => b.toString(16).padStart(2, '0')).join(',')}`;

const withParents = (keys: string[], existing: string[]): string[] =>
  [...new Set(keys.flatMap((k) => k.split('\\').map((_, i, a) => a.slice(0, i + 1).join('\\'))))].filter((k) => !existing.includes(k)).sort();

describe('virt-v2v Windows conversion: Windows Server 2019 with a virtio-win directory', () => {
  let guest: WindowsGuest;
  let r: Result;
  before(async () => {
    guest = await windowsGuest(WIN2K19);
    r = await convertAndOpen(guest, 'win2k19', await virtioWinDir());
  });
  after(() => rm(r.dir, { recursive: true, force: true }));

  test('asks for virtio disks and NIC, balloon, rng and the guest agent; no warnings', () => {
    assert.deepEqual(r.converted, { diskBus: 'virtio', nicModel: 'virtio', video: 'vga', firmware: 'bios', guestAgent: true, virtioRng: true, virtioBalloon: true, clock: 'localtime' });
    assert.deepEqual(r.warnings, []);
  });

  test('C: is clean for ntfsfix', async () => {
    const fix = await ntfsfixClean(r.c);
    assert.equal(fix.code, 0, fix.out);
    assert.doesNotMatch(fix.out, /error|corrupt|inconsisten/i);
  });

  test('SYSTEM: the viostor service and DriverDatabase entries in ControlSet002 (Select\\Current), AutoReboot off, nothing else', async () => {
    const diff = await checkedHiveDiff(r, guest, 'SYSTEM');
    const svc = 'ControlSet002\\Services\\viostor';
    const ddbKeys = [
      `DriverDatabase\\DriverInfFiles\\guestor.inf`,
      ...PCI.map((id) => `DriverDatabase\\DeviceIds\\PCI\\${id}`),
      `DriverDatabase\\DriverPackages\\${PKG}\\Configurations\\guestor_conf`,
      ...PCI.map((id) => `DriverDatabase\\DriverPackages\\${PKG}\\Descriptors\\PCI\\${id}`),
    ];
    assert.deepEqual(diff.addedKeys, withParents([svc, ...ddbKeys], ['ControlSet002', 'ControlSet002\\Services', 'DriverDatabase', 'DriverDatabase\\DriverInfFiles']));
    assert.deepEqual(diff.values, [
      'ControlSet002\\Control\\CrashControl\\AutoReboot',
      ...['ErrorControl', 'Group', 'ImagePath', 'Start', 'Type'].map((v) => `${svc}\\${v}`),
      ...PCI.map((id) => `DriverDatabase\\DeviceIds\\PCI\\${id}\\guestor.inf`),
      'DriverDatabase\\DriverInfFiles\\guestor.inf\\', 'DriverDatabase\\DriverInfFiles\\guestor.inf\\Active', 'DriverDatabase\\DriverInfFiles\\guestor.inf\\Configurations',
      `DriverDatabase\\DriverPackages\\${PKG}\\Configurations\\guestor_conf\\ConfigFlags`, `DriverDatabase\\DriverPackages\\${PKG}\\Configurations\\guestor_conf\\Service`,
      ...PCI.map((id) => `DriverDatabase\\DriverPackages\\${PKG}\\Descriptors\\PCI\\${id}\\Configuration`),
      `DriverDatabase\\DriverPackages\\${PKG}\\Version`,
    ].sort());
    const after = await exportHive(join(r.dir, 'SYSTEM.after'));
    assert.deepEqual([...after.get(svc)!.values()], [
      '"ErrorControl"=dword:00000001', `"Group"=${regString(1, 'SCSI miniport')}`, `"ImagePath"=${regString(2, 'system32\\drivers\\viostor.sys')}`,
      '"Start"=dword:00000000', '"Type"=dword:00000001',
    ]);
    assert.equal(after.get('ControlSet002\\Control\\CrashControl')!.get('AutoReboot'), '"AutoReboot"=dword:00000000');
    assert.equal(after.get(`DriverDatabase\\DriverPackages\\${PKG}\\Configurations\\guestor_conf`)!.get('Service'), `"Service"=${regString(1, 'viostor')}`);
    assert.ok(!after.has('ControlSet001\\Services\\viostor'), 'the stale control set is left alone');
  });

  test('SOFTWARE: DevicePath and the Group Policy startup script, nothing else', async () => {
    const diff = await checkedHiveDiff(r, guest, 'SOFTWARE');
    const added = [`${GP}\\Scripts\\Startup\\0\\0`, `${GP}\\State\\Machine\\Scripts\\Startup\\0\\0`];
    assert.deepEqual(diff.addedKeys, withParents(added, ['Microsoft', 'Microsoft\\Windows', 'Microsoft\\Windows\\CurrentVersion']));
    const gpoValues = ['DisplayName', 'FileSysPath', 'GPO-ID', 'GPOName', 'PSScriptOrder', 'SOM-ID'];
    const scriptValues = ['ExecTime', 'IsPowershell', 'Parameters', 'Script'];
    assert.deepEqual(diff.values, [
      'Microsoft\\Windows\\CurrentVersion\\DevicePath',
      ...[`${GP}\\Scripts\\Startup\\0`, `${GP}\\State\\Machine\\Scripts\\Startup\\0`].flatMap((k) => [...gpoValues.map((v) => `${k}\\${v}`), ...scriptValues.map((v) => `${k}\\0\\${v}`)]),
    ].sort());
    const after = await exportHive(join(r.dir, 'SOFTWARE.after'));
    const devicePath = after.get('Microsoft\\Windows\\CurrentVersion')!.get('DevicePath')!;
    const hex = devicePath.replace(/^"DevicePath"=hex\(2\):/, '').split(',').map((h) => parseInt(h, 16));
    assert.equal(Buffer.from(hex).toString('utf16le'), '%SystemRoot%\\inf;%SystemRoot%\\Drivers\\VirtIO\0');
    assert.equal(after.get(`${GP}\\Scripts\\Startup\\0\\0`)!.get('Script'), `"Script"=${regString(1, 'C:\\Program Files\\Guestkit\\Firstboot\\firstboot.bat')}`);
  });

  test('the drivers for 2k19/amd64, flattened and lower-cased, with their bytes; the boot driver in System32\\drivers', async () => {
    const names = await ntfsls(r.c, '/Windows/Drivers/VirtIO');
    const expected = ['viostor', 'vioscsi', 'netkvm', 'balloon', 'viorng', 'fwcfg'].flatMap((d) => ['sys', 'inf', 'cat'].map((e) => `${d}.${e}`)).concat('blnsvr.exe').sort();
    assert.deepEqual(names, expected, 'no .pdb, no vioprot, no qemufwcfg beside fwcfg, no other version');
    const dirs: Record<string, string> = { netkvm: 'NetKVM', balloon: 'Balloon', blnsvr: 'Balloon' };
    for (const n of names) {
      const base = n.split('.')[0]!;
      assert.ok((await ntfscat(r.c, `/Windows/Drivers/VirtIO/${n}`)).equals(fakeBytes(`${dirs[base] ?? base}/2k19/amd64/${n}`)), n);
    }
    assert.ok((await ntfscat(r.c, '/Windows/System32/drivers/viostor.sys')).equals(fakeBytes('viostor/2k19/amd64/viostor.sys')));
    assert.equal((await ntfscat(r.c, '/Windows/System32/drivers/pvscsi.sys')).toString(), 'pvscsi driver', 'VMware\'s driver stays until its uninstaller runs');
  });

  test('first boot: the control script, pnputil, balloon service, qemu-ga, the VMware Tools uninstall, registered in the local GPO', async () => {
    assert.deepEqual(await ntfsls(r.c, `${FIRSTBOOT}/scripts`), ['0001-install-virtio-drivers.bat', '0002-install-balloon-service.bat', '0003-install-qemu-ga.bat', '0004-uninstall-vmware-tools.bat']);
    const uninstall = (await ntfscat(r.c, `${FIRSTBOOT}/scripts/0004-uninstall-vmware-tools.bat`)).toString();
    assert.match(uninstall, new RegExp(`\r\nMsiExec\\.exe /X\\${VMWARE_TOOLS_KEY.slice(0, -1)}\\} /quiet /norestart .*REMOVE=ALL\r\n`));
    assert.ok((await ntfscat(r.c, `${FIRSTBOOT}/qemu-ga-x86_64.msi`)).equals(fakeBytes('guest-agent/qemu-ga-x86_64.msi')));
    const control = (await ntfscat(r.c, `${FIRSTBOOT}/firstboot.bat`)).toString();
    assert.ok(control.split('\n').every((l) => l === '' || l.endsWith('\r')), 'CRLF lines');
    assert.match(control, /reg delete "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Group Policy\\Scripts\\Startup\\0" \/f/);
    const ini = await ntfscat(r.c, '/Windows/System32/GroupPolicy/Machine/Scripts/scripts.ini');
    assert.deepEqual([...ini.subarray(0, 2)], [0xff, 0xfe], 'UTF-16LE with a BOM, as gpedit writes it');
    assert.equal(ini.toString('utf16le', 2), '\r\n[Startup]\r\n0CmdLine=C:\\Program Files\\Guestkit\\Firstboot\\firstboot.bat\r\n0Parameters=\r\n');
    const gpt = (await ntfscat(r.c, '/Windows/System32/GroupPolicy/gpt.ini')).toString('latin1');
    assert.equal(gpt, '[General]\r\nVersion=65536\r\ngPCMachineExtensionNames=[{42B5FAAE-6536-11D2-AE5A-0000F87571E3}{40B6664F-4972-11D1-A7CA-0000F87571E3}]\r\n');
  });

  test('every file change is reported', () => {
    const files = r.report.filter((l) => !l.startsWith('HKLM\\'));
    const size = fakeBytes('viostor/2k19/amd64/viostor.sys').length;
    assert.ok(files.includes(`C:\\Windows\\System32\\drivers\\viostor.sys: added (${size} bytes, the boot disk driver, from ${r.virtioWin})`), files.join('\n'));
    // One line per file written or directory made, each once.
    assert.equal(new Set(files).size, files.length);
    assert.equal(files.filter((l) => l.startsWith('C:\\Windows\\Drivers\\VirtIO\\')).length, 19);
    assert.ok(files.includes('C:\\Windows\\Drivers\\VirtIO: directory created'));
    assert.ok(files.some((l) => l.startsWith('C:\\Program Files\\Guestkit\\Firstboot\\firstboot.bat: added')));
  });

  test('the converted disk still inspects as the same Windows', async () => {
    const g = await Guest.open([{ path: r.overlay, format: 'qcow2' }]);
    try {
      const os = onlyOs((await inspectGuest(g)).oses)!;
      assert.equal(os.productName, 'Windows Server 2019 Standard');
      assert.equal(os.osinfo, 'win2k19');
      assert.equal(os.hostname, HOSTNAME);
      assert.equal(os.windowsCurrentControlSet, 'ControlSet002');
      assert.deepEqual(os.driveLetters, r.os.driveLetters);
    } finally {
      await g.close();
    }
  });
});
