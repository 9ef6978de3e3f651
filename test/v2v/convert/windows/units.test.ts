import assert from 'node:assert/strict';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Hive } from '../../../../inspect/hive/hive.js';
import { addStartupToIni, raiseGptIni } from '../../../../v2v/convert/windows/group-policy.js';
import { openDirectory } from '../../../../v2v/convert/windows/virtio-win/directory.js';
import { driverFits, qemuGaFits } from '../../../../v2v/convert/windows/virtio-win/match.js';
import { vmwareToolsUninstalls } from '../../../../v2v/convert/windows/vmware-tools.js';
import { fixture, scratch } from '../../../fixtures/cache.js';
import { hive, regFile } from '../../../inspect/windows-image.js';

const SCRIPTS = '[{42B5FAAE-6536-11D2-AE5A-0000F87571E3}{40B6664F-4972-11D1-A7CA-0000F87571E3}]';
const REGISTRY = '[{35378EAC-683F-11D2-A89A-00C04FBBCFA2}{D02B1F72-3407-48AE-BA88-E8213C6761F1}]';
const SECURITY = '[{827D319E-6EAC-11D2-A4EA-00C04F79F83A}{803E14A0-B4FB-11D0-A0D0-00A0C90F574B}]';

describe('gpt.ini', () => {
  test('a new one: machine version 1, the Scripts extension', () => {
    assert.equal(raiseGptIni(undefined), `[General]\r\nVersion=65536\r\ngPCMachineExtensionNames=${SCRIPTS}\r\n`);
  });
  test('an existing one: the machine half raised, the user half kept, extensions kept sorted', () => {
    const old = `[General]\r\ngPCFunctionalityVersion=2\r\ngPCMachineExtensionNames=${SECURITY}${REGISTRY}\r\nVersion=196613\r\ngPCUserExtensionNames=${REGISTRY}\r\n`;
    assert.equal(raiseGptIni(old), `[General]\r\ngPCFunctionalityVersion=2\r\ngPCMachineExtensionNames=${REGISTRY}${SCRIPTS}${SECURITY}\r\nVersion=262149\r\ngPCUserExtensionNames=${REGISTRY}\r\n`);
  });
  test('the Scripts extension already listed is not repeated', () => {
    assert.equal(raiseGptIni(`[General]\nVersion=65536\ngPCMachineExtensionNames=${SCRIPTS}\n`), `[General]\r\nVersion=131072\r\ngPCMachineExtensionNames=${SCRIPTS}\r\n`);
  });
});

describe('scripts.ini', () => {
  const utf16 = (s: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(s, 'utf16le')]);
  test('an existing UTF-16 file: ours after the startup scripts there, other sections kept', () => {
    const old = utf16('\r\n[Shutdown]\r\n0CmdLine=a.bat\r\n0Parameters=\r\n[Startup]\r\n0CmdLine=b.cmd\r\n0Parameters=-x\r\n');
    assert.deepEqual(addStartupToIni(old, 'C:\\fb.bat'), utf16('\r\n[Shutdown]\r\n0CmdLine=a.bat\r\n0Parameters=\r\n[Startup]\r\n0CmdLine=b.cmd\r\n0Parameters=-x\r\n1CmdLine=C:\\fb.bat\r\n1Parameters=\r\n'));
  });
  test('an ANSI file without [Startup] stays ANSI', () => {
    const out = addStartupToIni(Buffer.from('[Shutdown]\r\n0CmdLine=a.bat\r\n0Parameters=\r\n', 'latin1'), 'C:\\fb.bat');
    assert.equal(out.toString('latin1'), '\r\n[Shutdown]\r\n0CmdLine=a.bat\r\n0Parameters=\r\n[Startup]\r\n0CmdLine=C:\\fb.bat\r\n0Parameters=\r\n');
  });
});

describe('VMware Tools Uninstall entries', () => {
  test('64-bit and WOW6432Node entries, /I made /X, an entry without UninstallString warned about', async () => {
    const reg = regFile([
      ['Microsoft\\Windows\\CurrentVersion\\Uninstall\\{AAAA}', { DisplayName: 'VMware Tools', UninstallString: 'MsiExec.exe /I{AAAA}' }],
      ['Microsoft\\Windows\\CurrentVersion\\Uninstall\\Other', { DisplayName: 'Not VMware', UninstallString: 'x.exe' }],
      ['Microsoft\\Windows\\CurrentVersion\\Uninstall\\Broken', { DisplayName: 'VMware Tools (old)' }],
      ['WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\VMwareTools', { DisplayName: 'VMware Tools 32', UninstallString: 'C:\\Program Files\\VMware\\uninst.exe' }],
    ]);
    const dir = await fixture('v2v-vmware-uninstall-hive', reg, async (out) => {
      await mkdir(out, { recursive: true });
      await hive(join(out, 'SOFTWARE'), reg);
    });
    const warnings: string[] = [];
    const found = vmwareToolsUninstalls(Hive.parse(await readFile(join(dir, 'SOFTWARE')), 'SOFTWARE'), (m) => warnings.push(m));
    const tail = ' /quiet /norestart /l*v+ "%~dpn0.log" REBOOT=ReallySuppress REMOVE=ALL';
    assert.deepEqual(found.map((f) => f.command), [`MsiExec.exe /X{AAAA}${tail}`, `C:\\Program Files\\VMware\\uninst.exe${tail}`]);
    assert.deepEqual(warnings, ['cannot uninstall VMware Tools (old): HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\Broken has no UninstallString']);
  });
});

describe('virtio-win paths', () => {
  test("virt-v2v's mapping: version and architecture directories anywhere, any case", () => {
    assert.ok(driverFits('viostor/2k19/amd64/viostor.sys', 'win2k19', 'x86_64'));
    assert.ok(driverFits('drivers/by-os/amd64/2k19/viostor.sys', 'win2k19', 'x86_64'));
    assert.ok(driverFits('NETKVM/2K12R2/AMD64/NETKVM.INF', 'win2k12r2', 'x86_64'));
    assert.ok(driverFits('viostor/w10/x86/viostor.sys', 'win10', 'i386'));
    assert.ok(!driverFits('viostor/w10/x86/viostor.sys', 'win10', 'x86_64'));
    assert.ok(!driverFits('viostor/w10/amd64/viostor.sys', 'win11', 'x86_64'));
    assert.ok(!driverFits('viostor/2k19/amd64/viostor.pdb', 'win2k19', 'x86_64'));
    assert.ok(!driverFits('NetKVM/2k19/amd64/vioprot.inf', 'win2k19', 'x86_64'));
    assert.ok(!driverFits('NetKVM/2k19/amd64/sriov/netkvm.inf', 'win2k19', 'x86_64'));
    assert.ok(!driverFits('viostor/amd64/viostor.sys', 'win2k19', 'x86_64'), 'no version directory');
    assert.ok(driverFits('viostor/2k8/amd64/viostor.sys', 'winvista', 'x86_64'));
    assert.ok(qemuGaFits('guest-agent/QEMU-GA-X86_64.MSI', 'x86_64'));
    assert.ok(!qemuGaFits('guest-agent/qemu-ga-i386.msi', 'x86_64'));
  });

  test('a directory with a symlink loop and a dangling link: each file once, the walk ends', async () => {
    const dir = await scratch('virtio-win-links');
    try {
      await mkdir(join(dir, 'viostor', '2k19', 'amd64'), { recursive: true });
      await writeFile(join(dir, 'viostor', '2k19', 'amd64', 'viostor.sys'), 'sys');
      await symlink('..', join(dir, 'viostor', '2k19', 'up'));
      await symlink('nowhere', join(dir, 'viostor', 'dangling'));
      await mkdir(join(dir, 'by-os'));
      await symlink('../viostor/2k19', join(dir, 'by-os', '2k19'));
      const src = openDirectory(dir);
      const files = await src.files();
      assert.deepEqual(files, [{ path: 'by-os/2k19/amd64/viostor.sys', size: 3 }]);
      assert.equal((await src.read(files[0]!)).toString(), 'sys');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
