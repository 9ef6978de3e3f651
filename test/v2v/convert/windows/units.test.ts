import assert from 'node:assert/strict';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Hive } from '../../../../inspect/hive/hive.js';
import { addStartupToIni, raiseGptIni } from '../../../../v2v/convert/windows/group-policy.js';
import { openDirectory } from '../../../../v2v/convert/windows/virtio-win/directory.js';
import { driverFits, qemuGaFits } from '../../../../v2v/convert/windows/virtio-win/match.js';
import { guestToolsDriverEdits, guestToolsUninstalls } from '../../../../v2v/convert/windows/guest-tools.js';
import { applyEdits } from '../../../../v2v/convert/windows/registry.js';
import { rtcIsUniversal } from '../../../../v2v/convert/windows/clock.js';
import { fixture, scratch } from '../../../fixtures/cache.js';
import { run } from '../../../fixtures/run.js';
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

describe("Other hypervisors' tools", () => {
  test('VMware, Parallels and Xen PV Uninstall entries (64-bit and WOW6432Node), /I made /X, an entry without UninstallString warned about', async () => {
    const reg = regFile([
      ['Microsoft\\Windows\\CurrentVersion\\Uninstall\\{AAAA}', { DisplayName: 'VMware Tools', UninstallString: 'MsiExec.exe /I{AAAA}' }],
      ['Microsoft\\Windows\\CurrentVersion\\Uninstall\\Other', { DisplayName: 'Not VMware', UninstallString: 'x.exe' }],
      ['Microsoft\\Windows\\CurrentVersion\\Uninstall\\Broken', { DisplayName: 'VMware Tools (old)' }],
      ['Microsoft\\Windows\\CurrentVersion\\Uninstall\\{PRL}', { DisplayName: 'Parallels Tools', UninstallString: 'MsiExec.exe /X{PRL}' }],
      ['Microsoft\\Windows\\CurrentVersion\\Uninstall\\Red Hat Paravirtualized Xen Drivers for Windows(R)', { DisplayName: 'Xen PV', UninstallString: 'C:\\Program Files\\Red Hat\\uninst.exe' }],
      ['WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\VMwareTools', { DisplayName: 'VMware Tools 32', UninstallString: 'C:\\Program Files\\VMware\\uninst.exe' }],
    ]);
    const dir = await fixture('v2v-guest-tools-uninstall-hive', reg, async (out) => {
      await mkdir(out, { recursive: true });
      await hive(join(out, 'SOFTWARE'), reg);
    });
    const warnings: string[] = [];
    const found = guestToolsUninstalls(Hive.parse(await readFile(join(dir, 'SOFTWARE')), 'SOFTWARE'), (m) => warnings.push(m));
    const tail = ' /quiet /norestart /l*v+ "%~dpn0.log" REBOOT=ReallySuppress REMOVE=ALL';
    assert.deepEqual(found.map((f) => [f.tools, f.command]).sort(), [
      ['Parallels Tools', `MsiExec.exe /X{PRL}${tail} PREVENT_REBOOT=Yes LAUNCHED_BY_SETUP_EXE=Yes`],
      ['VMware Tools', `C:\\Program Files\\VMware\\uninst.exe${tail}`],
      ['VMware Tools', `MsiExec.exe /X{AAAA}${tail}`],
      ['Xen PV drivers', '"C:\\Program Files\\Red Hat\\_uninst.exe"'],
    ]);
    assert.deepEqual(found.find((f) => f.tools === 'Parallels Tools')!.before, ['REG DELETE "HKLM\\System\\CurrentControlSet\\Services\\prl_strg\\DriverInfo" /v RefCount /f']);
    assert.deepEqual(warnings, ['cannot uninstall VMware Tools (old): HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\Broken has no UninstallString']);
  });

  test("Parallels' and Xen's drivers disabled in SYSTEM and prl_strg out of the disk class's LowerFilters, as hivex reads it back", async () => {
    const cls = 'ControlSet001\\Control\\Class\\{4d36e967-e325-11ce-bfc1-08002be10318}';
    const reg = regFile([
      ['ControlSet001\\Services\\prl_strg', { Start: { dword: 0 } }],
      ['ControlSet001\\Services\\prl_fs', { Start: { dword: 2 } }],
      ['ControlSet001\\Services\\rhelscsi', { Start: { dword: 0 } }],
      ['ControlSet001\\Services\\storahci', { Start: { dword: 0 } }],
      [cls, { LowerFilters: { multi: ['fvevol', 'prl_strg', 'iorate'] } }],
    ]);
    const dir = await fixture('v2v-guest-tools-system-hive', reg, async (out) => {
      await mkdir(out, { recursive: true });
      await hive(join(out, 'SYSTEM'), reg);
    });
    const system = { hive: Hive.parse(await readFile(join(dir, 'SYSTEM')), 'SYSTEM'), root: 'HKLM\\SYSTEM' };
    const reported: string[] = [];
    applyEdits(system, guestToolsDriverEdits(system.hive, 'ControlSet001'), (m) => reported.push(m));
    assert.equal(reported.length, 4, reported.join('\n'));
    const out = join(await scratch('v2v-guest-tools-system'), 'SYSTEM');
    await writeFile(out, system.hive.toBuffer());
    const exported = await run('hivexregedit', ['--export', out, '\\']);
    const start = (svc: string) => new RegExp(`\\[\\\\ControlSet001\\\\Services\\\\${svc}\\]\\r?\\n"Start"=dword:(\\d+)`).exec(exported)?.[1];
    assert.deepEqual(['prl_strg', 'prl_fs', 'rhelscsi', 'storahci'].map(start), ['00000004', '00000004', '00000004', '00000000']);
    const filters = /"LowerFilters"=hex\(7\):([0-9a-f,\s\\]+)/.exec(exported)![1]!.replace(/[\s\\]/g, '');
    assert.deepEqual(Buffer.from(filters.split(',').map((h) => parseInt(h, 16))).toString('utf16le').split('\0').filter(Boolean), ['fvevol', 'iorate']);
  });
});

describe('the hardware clock', () => {
  test('RealTimeIsUniversal as virt-v2v reads it: DWORD 1 is UTC, 0 or absent local time, another type UTC with a warning', async () => {
    const tz = 'ControlSet001\\Control\\TimeZoneInformation';
    const cases: [string, Record<string, { dword: number } | { hex: Buffer }>, boolean, number][] = [
      ['utc', { RealTimeIsUniversal: { dword: 1 } }, true, 0],
      ['zero', { RealTimeIsUniversal: { dword: 0 } }, false, 0],
      ['absent', { Bias: { dword: 0 } }, false, 0],
      ['binary', { RealTimeIsUniversal: { hex: Buffer.from([1]) } }, true, 1],
    ];
    for (const [name, values, utc, warned] of cases) {
      const reg = regFile([[tz, values]]);
      const dir = await fixture(`v2v-rtc-${name}`, reg, async (out) => {
        await mkdir(out, { recursive: true });
        await hive(join(out, 'SYSTEM'), reg);
      });
      const warnings: string[] = [];
      assert.equal(rtcIsUniversal(Hive.parse(await readFile(join(dir, 'SYSTEM')), 'SYSTEM'), 'ControlSet001', (m) => warnings.push(m)), utc, name);
      assert.equal(warnings.length, warned, warnings.join('\n'));
    }
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
