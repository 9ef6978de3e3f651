/**
 * Windows-like guests made with the real tools: three NTFS volumes ("System Reserved", C:,
 * D:) from mkntfs filled through ntfs-3g, SYSTEM and SOFTWARE hives made by
 * `hivexregedit --merge` from .reg files, and a PE cmd.exe from the mingw assembler and linker.
 * The MBR disk names its volumes in MountedDevices by disk signature and offset, the GPT disk by
 * partition GUID ("DMIO:ID:").
 */
import { copyFile, chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fixture } from '../fixtures/cache.js';
import { run } from '../fixtures/run.js';
import { place } from '../e2e/tools.js';
import { withNtfs3g } from '../fs/ntfs/images.js';
import { EMPTY_HIVE } from './hive/reg.js';

const MiB = 1 << 20;
export const DISK_SIGNATURE = 0x1234abcd;
/** Partition starts and sizes in MiB: System Reserved, C:, D:. */
export const LAYOUT = [[1, 16], [17, 64], [81, 40]] as const;
export const PART_GUIDS = ['6A3F7B1E-0C2D-4E5F-8A9B-1C2D3E4F5A01', '6A3F7B1E-0C2D-4E5F-8A9B-1C2D3E4F5A02', '6A3F7B1E-0C2D-4E5F-8A9B-1C2D3E4F5A03'];
export const HOSTS = '127.0.0.1 localhost\r\n10.0.0.5 fileserver\r\n';

export type RegValue = string | { dword: number } | { hex: Buffer } | { expand: string } | { multi: string[] };

export interface WindowsSpec {
  scheme: 'mbr' | 'gpt';
  productName: string;
  build: string;
  edition: string;
  installationType: string;
}

export const SPECS: Record<'mbr' | 'gpt', WindowsSpec> = {
  mbr: { scheme: 'mbr', productName: 'Windows Server 2019 Standard', build: '17763', edition: 'ServerStandard', installationType: 'Server' },
  gpt: { scheme: 'gpt', productName: 'Windows 10 Pro', build: '19045', edition: 'Professional', installationType: 'Client' },
};

/** The text of a .reg file holding `keys`, each parent key written before its children as hivexregedit needs. */
export function regFile(keys: [string, Record<string, RegValue>][]): string {
  const out = ['Windows Registry Editor Version 5.00', ''];
  const done = new Set<string>();
  const quote = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  for (const [path, values] of keys) {
    const parts = path.split('\\');
    for (let i = 1; i <= parts.length; i++) {
      const p = parts.slice(0, i).join('\\');
      if (done.has(p.toLowerCase())) continue;
      done.add(p.toLowerCase());
      out.push(`[\\${p}]`);
      if (i === parts.length) {
        for (const [name, v] of Object.entries(values)) {
          const hex = (b: Buffer) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(',');
          const data = typeof v === 'string' ? quote(v) : 'dword' in v ? `dword:${v.dword.toString(16).padStart(8, '0')}` : 'expand' in v ? `hex(2):${hex(Buffer.from(`${v.expand}\0`, 'utf16le'))}` : 'multi' in v ? `hex(7):${hex(Buffer.from(`${v.multi.map((m) => `${m}\0`).join('')}\0`, 'utf16le'))}` : `hex:${hex(v.hex)}`;
          out.push(`${quote(name)}=${data}`);
        }
      }
      out.push('');
    }
  }
  return `${out.join('\n')}\n`;
}

/** A MountedDevices value naming partition `i` (0-based) of the layout. */
export function mountedDevice(spec: WindowsSpec, i: number): Buffer {
  if (spec.scheme === 'gpt') {
    const g = PART_GUIDS[i]!.replace(/-/g, '');
    const le = (s: string) => Buffer.from(s, 'hex').reverse();
    return Buffer.concat([Buffer.from('DMIO:ID:'), le(g.slice(0, 8)), le(g.slice(8, 12)), le(g.slice(12, 16)), Buffer.from(g.slice(16), 'hex')]);
  }
  const b = Buffer.alloc(12);
  b.writeUInt32LE(DISK_SIGNATURE, 0);
  b.writeBigUInt64LE(BigInt(LAYOUT[i]![0] * MiB), 4);
  return b;
}

export function systemReg(spec: WindowsSpec): string {
  const tcpip = 'Services\\Tcpip\\Parameters';
  return regFile([
    ['Select', { Current: { dword: 2 }, Default: { dword: 2 }, LastKnownGood: { dword: 1 } }],
    // ControlSet001 is the stale one: Select\Current points at 002.
    [`ControlSet001\\${tcpip}`, { Hostname: 'OLD-NAME' }],
    [`ControlSet002\\${tcpip}`, { Hostname: 'WIN-FILESRV01', Domain: 'example.com' }],
    ['MountedDevices', {
      '\\DosDevices\\C:': { hex: mountedDevice(spec, 1) },
      '\\DosDevices\\D:': { hex: mountedDevice(spec, 2) },
      // A CD drive and System Reserved's volume name: neither is a letter for a volume we hold.
      '\\DosDevices\\E:': { hex: Buffer.from('\\??\\IDE#CdRomQEMU_DVD-ROM#5&1234', 'utf16le') },
      '\\??\\Volume{0a1b2c3d-0000-0000-0000-100000000000}': { hex: mountedDevice(spec, 0) },
    }],
  ]);
}

export const APPS = {
  '7-Zip': { DisplayName: '7-Zip 23.01 (x64)', DisplayVersion: '23.01', Publisher: 'Igor Pavlov', InstallLocation: 'C:\\Program Files\\7-Zip\\' },
  '{A1B2C3D4-1111-2222-3333-444455556666}': { DisplayName: 'Microsoft Visual C++ 2019 X64 Minimum Runtime', DisplayVersion: '14.29.30133', Publisher: 'Microsoft Corporation' },
};
export const APPS32 = {
  'Notepad++': { DisplayName: 'Notepad++ (32-bit x86)', DisplayVersion: '8.5.8', Publisher: 'Notepad++ Team', URLInfoAbout: 'https://notepad-plus-plus.org/', Comments: 'A text editor' },
};

export function softwareReg(spec: WindowsSpec): string {
  const uninstall = 'Microsoft\\Windows\\CurrentVersion\\Uninstall';
  return regFile([
    ['Microsoft\\Windows NT\\CurrentVersion', {
      ProductName: spec.productName, CurrentVersion: '6.3', CurrentMajorVersionNumber: { dword: 10 }, CurrentMinorVersionNumber: { dword: 0 },
      CurrentBuildNumber: spec.build, CurrentBuild: spec.build, EditionID: spec.edition, InstallationType: spec.installationType,
    }],
    ...Object.entries(APPS).map(([k, v]): [string, Record<string, RegValue>] => [`${uninstall}\\${k}`, v]),
    ...Object.entries(APPS32).map(([k, v]): [string, Record<string, RegValue>] => [`WOW6432Node\\${uninstall}\\${k}`, v]),
  ]);
}

/** A hive file at `path` made by hivexregedit from the shared empty hive and a .reg text. */
export async function hive(path: string, reg: string): Promise<void> {
  await copyFile(EMPTY_HIVE, path);
  await chmod(path, 0o644);
  await writeFile(`${path}.reg`, reg);
  await run('hivexregedit', ['--merge', path, `${path}.reg`]);
}

/** An NTFS image file made by mkntfs and filled through ntfs-3g. */
export async function ntfs(path: string, sizeMiB: number, label: string, fill: (mnt: string) => Promise<void>): Promise<void> {
  await run('truncate', ['-s', String(sizeMiB * MiB), path]);
  await run('mkntfs', ['-F', '-Q', '-q', '-L', label, path]);
  await withNtfs3g(path, 'rw', fill);
}

/** OUT/cmd.exe: a minimal PE executable assembled by mingw (inspection reads its architecture). */
export async function stubExe(out: string): Promise<void> {
  await writeFile(join(out, 'cmd.s'), '.text\n.globl _start\n_start:\n  ret\n');
  await run('x86_64-w64-mingw32-as', [join(out, 'cmd.s'), '-o', join(out, 'cmd.o')]);
  await run('x86_64-w64-mingw32-ld', ['-e', '_start', join(out, 'cmd.o'), '-o', join(out, 'cmd.exe')]);
}

/** An MBR (sfdisk) of NTFS partitions at [start, size] MiB, the first bootable, with Windows' disk signature. */
export async function ntfsMbr(disk: string, layout: readonly (readonly [number, number])[], signature: number): Promise<void> {
  const parts = layout.map(([s, n], i) => `start=${s * 2048}, size=${n * 2048}, type=7${i === 0 ? ', bootable' : ''}`).join('\n');
  await run('sfdisk', ['-q', disk], { input: `label: dos\nlabel-id: 0x${signature.toString(16)}\n${parts}\n` });
}

/** The System Reserved volume as Windows setup leaves it (boot manager and BCD). */
export async function fillSystemReserved(m: string): Promise<void> {
  await mkdir(join(m, 'Boot'));
  await writeFile(join(m, 'Boot', 'BCD'), 'bcd');
  await writeFile(join(m, 'bootmgr'), 'bootmgr');
}

/** The directory holding `disk.img`, `cmd.exe` and the hives. */
export function windowsImage(spec: WindowsSpec): Promise<string> {
  return fixture(`inspect-windows-${spec.scheme}`, `v1 ${JSON.stringify(spec)} ${JSON.stringify(LAYOUT)} ${systemReg(spec)} ${softwareReg(spec)} ${HOSTS}`, async (out) => {
    await mkdir(out, { recursive: true });
    await hive(join(out, 'SYSTEM'), systemReg(spec));
    await hive(join(out, 'SOFTWARE'), softwareReg(spec));
    await stubExe(out);

    const disk = join(out, 'disk.img');
    await run('truncate', ['-s', String(128 * MiB), disk]);
    if (spec.scheme === 'mbr') {
      await ntfsMbr(disk, LAYOUT, DISK_SIGNATURE);
    } else {
      await run('sgdisk', [...LAYOUT.flatMap(([s, n], i) => ['-n', `${i + 1}:${s * 2048}:${(s + n) * 2048 - 1}`, '-t', `${i + 1}:0700`, '-u', `${i + 1}:${PART_GUIDS[i]}`]), disk]);
    }
    const volumes: [string, (mnt: string) => Promise<void>][] = [
      ['System Reserved', fillSystemReserved],
      ['Windows', async (m) => {
        const sys32 = join(m, 'Windows', 'System32');
        await mkdir(join(sys32, 'config'), { recursive: true });
        await mkdir(join(sys32, 'drivers', 'etc'), { recursive: true });
        await copyFile(join(out, 'SYSTEM'), join(sys32, 'config', 'SYSTEM'));
        await copyFile(join(out, 'SOFTWARE'), join(sys32, 'config', 'SOFTWARE'));
        await copyFile(join(out, 'cmd.exe'), join(sys32, 'cmd.exe'));
        await writeFile(join(sys32, 'drivers', 'etc', 'hosts'), HOSTS);
        await mkdir(join(m, 'Program Files', '7-Zip'), { recursive: true });
      }],
      ['Data', async (m) => {
        await mkdir(join(m, 'Shares', 'Public'), { recursive: true });
        await writeFile(join(m, 'Shares', 'Public', 'Readme.txt'), 'D drive\r\n');
      }],
    ];
    for (const [i, [label, fill]] of volumes.entries()) {
      const img = join(out, `p${i + 1}.img`);
      const [start, size] = LAYOUT[i]!;
      await ntfs(img, size, label, fill);
      await place(img, disk, 0, start * MiB, size * MiB);
    }
  });
}
