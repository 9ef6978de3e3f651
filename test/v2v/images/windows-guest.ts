/**
 * Windows-like guests for virt-v2v: an MBR disk with "System Reserved" and C: (NTFS, mkntfs +
 * ntfs-3g), SYSTEM and SOFTWARE hives made by hivexregedit (MountedDevices, a current control
 * set that is not ControlSet001, VMware's pvscsi service, the in-box AHCI driver on demand
 * start, CrashControl, DevicePath, a VMware Tools Uninstall entry), a PE cmd.exe, and VMware
 * Tools' files. Windows Server 2019 has a DriverDatabase (Windows 8 and later), Windows 7 not.
 */
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fixture } from '../../fixtures/cache.js';
import { run } from '../../fixtures/run.js';
import { place } from '../../e2e/tools.js';
import { fillSystemReserved, hive, ntfs, ntfsMbr, regFile, stubExe, type RegValue } from '../../inspect/windows-image.js';

const MiB = 1 << 20;
export const DISK_SIGNATURE = 0x5eed2019;
/** Partition starts and sizes in MiB: System Reserved, C:. */
export const GUEST_LAYOUT = [[1, 16], [17, 80]] as const;
export const DISK_SIZE = 100 * MiB;

export interface WindowsGuestSpec {
  /** Short name for the fixture. */
  id: string;
  productName: string;
  /** CurrentVersion ("6.3" on Windows 8.1 and later, which keep the real version in the numbers). */
  currentVersion: string;
  majorNumber?: number;
  build: string;
  edition: string;
  installationType: string;
  driverDatabase: boolean;
  /** The in-box AHCI driver's service: storahci from Windows 8, msahci before. */
  ahci: string;
  /** A local Group Policy startup script already there (gpt.ini, an ANSI scripts.ini, the registry copy). */
  startupScript?: boolean;
  /** SYSTEM's sequence numbers differ, as when Windows stopped with changes left in its .LOG files. */
  dirtySystem?: boolean;
}

export const WIN2K19: WindowsGuestSpec = {
  id: 'win2k19', productName: 'Windows Server 2019 Standard', currentVersion: '6.3', majorNumber: 10, build: '17763',
  edition: 'ServerStandard', installationType: 'Server', driverDatabase: true, ahci: 'storahci',
};
export const WIN7: WindowsGuestSpec = {
  id: 'win7', productName: 'Windows 7 Professional', currentVersion: '6.1', build: '7601',
  edition: 'Professional', installationType: 'Client', driverDatabase: false, ahci: 'msahci', startupScript: true,
};

/** The local startup script the Windows 7 guest already has. */
export const OLD_STARTUP_SCRIPT = 'C:\\Scripts\\map-drives.cmd';
export const OLD_GPT_INI = '[General]\r\ngPCMachineExtensionNames=[{42B5FAAE-6536-11D2-AE5A-0000F87571E3}{40B6664F-4972-11D1-A7CA-0000F87571E3}]\r\nVersion=65537\r\n';
export const OLD_SCRIPTS_INI = '\r\n[Startup]\r\n0CmdLine=C:\\Scripts\\map-drives.cmd\r\n0Parameters=/quiet\r\n';

export const VMWARE_TOOLS_KEY = '{A2CBC1D3-5B2B-4C57-8C52-F1F2E2E0F601}';
export const VMWARE_TOOLS_UNINSTALL = `MsiExec.exe /I${VMWARE_TOOLS_KEY}`;
export const HOSTNAME = 'WIN-V2V-TEST';

type Keys = [string, Record<string, RegValue>][];

export function guestSystemReg(spec: WindowsGuestSpec): string {
  const cs = 'ControlSet002';
  const c1: Keys = [['ControlSet001\\Services\\Tcpip\\Parameters', { Hostname: 'STALE' }]];
  const mounted = (start: number) => {
    const b = Buffer.alloc(12);
    b.writeUInt32LE(DISK_SIGNATURE, 0);
    b.writeBigUInt64LE(BigInt(start * MiB), 4);
    return { hex: b };
  };
  const keys: Keys = [
    ['Select', { Current: { dword: 2 }, Default: { dword: 2 }, LastKnownGood: { dword: 1 } }],
    ...c1,
    [`${cs}\\Control\\CrashControl`, { AutoReboot: { dword: 1 }, CrashDumpEnabled: { dword: 7 } }],
    [`${cs}\\Control\\ComputerName\\ComputerName`, { ComputerName: HOSTNAME }],
    [`${cs}\\Services\\Tcpip\\Parameters`, { Hostname: HOSTNAME }],
    [`${cs}\\Services\\pvscsi`, { Type: { dword: 1 }, Start: { dword: 0 }, Group: 'SCSI miniport', ImagePath: 'System32\\drivers\\pvscsi.sys' }],
    [`${cs}\\Services\\${spec.ahci}`, { Type: { dword: 1 }, Start: { dword: 3 }, ErrorControl: { dword: 3 }, ImagePath: `System32\\drivers\\${spec.ahci}.sys` }],
    ['MountedDevices', { '\\DosDevices\\C:': mounted(GUEST_LAYOUT[1][0]), '\\??\\Volume{5eed0000-0000-0000-0000-100000000000}': mounted(GUEST_LAYOUT[0][0]) }],
  ];
  if (spec.driverDatabase) keys.push(['DriverDatabase\\DriverInfFiles\\disk.inf', { Active: 'disk.inf_amd64_1234' }]);
  return regFile(keys);
}

export function guestSoftwareReg(spec: WindowsGuestSpec): string {
  const uninstall = 'Microsoft\\Windows\\CurrentVersion\\Uninstall';
  return regFile([
    ['Microsoft\\Windows NT\\CurrentVersion', {
      ProductName: spec.productName, CurrentVersion: spec.currentVersion, CurrentBuildNumber: spec.build, CurrentBuild: spec.build,
      EditionID: spec.edition, InstallationType: spec.installationType,
      ...(spec.majorNumber ? { CurrentMajorVersionNumber: { dword: spec.majorNumber }, CurrentMinorVersionNumber: { dword: 0 } } : {}),
    }],
    ['Microsoft\\Windows\\CurrentVersion', { DevicePath: { expand: '%SystemRoot%\\inf' }, ProgramFilesDir: 'C:\\Program Files' }],
    [`${uninstall}\\${VMWARE_TOOLS_KEY}`, { DisplayName: 'VMware Tools', DisplayVersion: '12.3.0.22234872', Publisher: 'VMware, Inc.', UninstallString: VMWARE_TOOLS_UNINSTALL }],
    [`${uninstall}\\7-Zip`, { DisplayName: '7-Zip 23.01 (x64)', UninstallString: 'C:\\Program Files\\7-Zip\\Uninstall.exe' }],
    ...(spec.startupScript ? startupKeys() : []),
  ]);
}

function startupKeys(): Keys {
  const gp = 'Microsoft\\Windows\\CurrentVersion\\Group Policy';
  const gpo = { 'GPO-ID': 'LocalGPO', 'SOM-ID': 'Local', FileSysPath: 'C:\\Windows\\System32\\GroupPolicy\\Machine', DisplayName: 'Local Group Policy', GPOName: 'Local Group Policy', PSScriptOrder: { dword: 1 } };
  const script = { Script: OLD_STARTUP_SCRIPT, Parameters: '/quiet', IsPowershell: { dword: 0 } };
  return [`${gp}\\Scripts\\Startup\\0`, `${gp}\\State\\Machine\\Scripts\\Startup\\0`].flatMap((k): Keys => [[k, gpo], [`${k}\\0`, script]]);
}

export interface WindowsGuest {
  /** The raw MBR disk. */
  disk: string;
  /** The hives as built, before they went into the image (the conversion's "before"). */
  system: string;
  software: string;
  spec: WindowsGuestSpec;
}

/** Advance a hive's primary sequence number only (and fix the base block checksum), as an unfinished write leaves it. */
async function makeDirty(path: string): Promise<void> {
  const b = await readFile(path);
  b.writeUInt32LE(b.readUInt32LE(4) + 1, 4);
  let sum = 0;
  for (let i = 0; i < 508; i += 4) sum ^= b.readUInt32LE(i);
  b.writeUInt32LE(sum >>> 0, 508);
  await writeFile(path, b);
}

/** The guest image for `spec`, built once and cached. */
export async function windowsGuest(spec: WindowsGuestSpec): Promise<WindowsGuest> {
  const recipe = `v1 ${makeDirty.toString()} ${JSON.stringify(spec)} ${OLD_GPT_INI} ${OLD_SCRIPTS_INI} ${JSON.stringify(GUEST_LAYOUT)} ${DISK_SIZE} ${guestSystemReg(spec)} ${guestSoftwareReg(spec)}`;
  const dir = await fixture(`v2v-windows-${spec.id}`, recipe, async (out) => {
    await mkdir(out, { recursive: true });
    await hive(join(out, 'SYSTEM'), guestSystemReg(spec));
    if (spec.dirtySystem) await makeDirty(join(out, 'SYSTEM'));
    await hive(join(out, 'SOFTWARE'), guestSoftwareReg(spec));
    await stubExe(out);
    const disk = join(out, 'disk.img');
    await run('truncate', ['-s', String(DISK_SIZE), disk]);
    await ntfsMbr(disk, GUEST_LAYOUT, DISK_SIGNATURE);
    const fills: [string, (m: string) => Promise<void>][] = [
      ['System Reserved', fillSystemReserved],
      ['Windows', async (m) => {
        const sys32 = join(m, 'Windows', 'System32');
        await mkdir(join(sys32, 'config'), { recursive: true });
        await mkdir(join(sys32, 'drivers'), { recursive: true });
        await mkdir(join(m, 'Windows', 'Temp'), { recursive: true });
        await copyFile(join(out, 'SYSTEM'), join(sys32, 'config', 'SYSTEM'));
        await copyFile(join(out, 'SOFTWARE'), join(sys32, 'config', 'SOFTWARE'));
        await copyFile(join(out, 'cmd.exe'), join(sys32, 'cmd.exe'));
        await writeFile(join(sys32, 'drivers', 'pvscsi.sys'), 'pvscsi driver');
        const tools = join(m, 'Program Files', 'VMware', 'VMware Tools');
        await mkdir(tools, { recursive: true });
        await writeFile(join(tools, 'vmtoolsd.exe'), 'vmtoolsd');
        if (spec.startupScript) {
          await mkdir(join(sys32, 'GroupPolicy', 'Machine', 'Scripts', 'Startup'), { recursive: true });
          await writeFile(join(sys32, 'GroupPolicy', 'gpt.ini'), OLD_GPT_INI, 'latin1');
          await writeFile(join(sys32, 'GroupPolicy', 'Machine', 'Scripts', 'scripts.ini'), OLD_SCRIPTS_INI, 'latin1');
        }
      }],
    ];
    for (const [i, [label, fill]] of fills.entries()) {
      const img = join(out, `p${i + 1}.img`);
      const [start, size] = GUEST_LAYOUT[i]!;
      await ntfs(img, size, label, fill);
      await place(img, disk, 0, start * MiB, size * MiB);
    }
  });
  return { disk: join(dir, 'disk.img'), system: join(dir, 'SYSTEM'), software: join(dir, 'SOFTWARE'), spec };
}
