/**
 * What must run inside Windows after the conversion (pnputil, msiexec) runs at the first boot
 * on KVM from a machine startup script of the local Group Policy (group-policy.ts). virt-v2v
 * installs rhsrvany, a service wrapper binary, for this; we ship no Windows binary, and a
 * startup script gives the same: LocalSystem, at boot, before any logon, and no user needed
 * (a RunOnce entry would wait for an administrator to log on). The control script runs each
 * script in `scripts\` once, in name order, keeps a log, and when all have run marks itself
 * complete, removes its registration, and reboots if a script asked for it (exit code 3010).
 */
import type { OsInfo } from '../../../inspect/os-info.js';
import type { GuestFiles } from '../../guest-files.js';
import { mkdirReported, writeReported } from './drivers.js';
import { registerStartupScript } from './group-policy.js';
import { windowsPath } from './guest-paths.js';
import type { NamedHive } from './registry.js';

/** Where the first-boot scripts live in the guest (on the system drive). */
export const FIRSTBOOT_DIR = '/Program Files/Guestkit/Firstboot';

export interface FirstbootScript {
  /** Short name, in the file name ("install-drivers"). */
  name: string;
  /** Batch file lines (written with CRLF). */
  lines: string[];
}

/** Files to place in the first-boot directory beside the scripts (installers the scripts run). */
export interface FirstbootFile {
  name: string;
  data: Buffer;
}

export async function installFirstboot(files: GuestFiles, os: OsInfo, software: NamedHive, scripts: FirstbootScript[], extra: FirstbootFile[], report: (m: string) => void): Promise<void> {
  const dir = FIRSTBOOT_DIR;
  await mkdirReported(files, os, `${dir}/scripts`, report);
  for (const f of extra) await writeReported(files, os, `${dir}/${f.name}`, f.data, 'run by a first-boot script', report);
  for (const [i, s] of scripts.entries()) {
    const name = `${String(i + 1).padStart(4, '0')}-${s.name}.bat`;
    await writeReported(files, os, `${dir}/scripts/${name}`, crlf(s.lines), 'first-boot script', report);
  }
  const control = windowsPath(os, `${dir}/firstboot.bat`);
  const reg = await registerStartupScript(files, os, software, control, report);
  if (reg.scriptsIni) await writeReported(files, os, `${dir}/scripts.ini.orig`, reg.scriptsIni, 'the startup scripts as they were, restored when the first boot is done', report);
  await writeReported(files, os, `${dir}/firstboot.bat`, crlf(controlScript(os, reg.keys, reg.scriptsIni !== undefined)), 'first-boot control script, a Group Policy startup script', report);
}

function controlScript(os: OsInfo, keys: string[], restoreIni: boolean): string[] {
  const ini = `${windowsPath(os, `${os.windowsSystemroot || '/Windows'}/System32/GroupPolicy/Machine/Scripts`)}\\scripts.ini`;
  return [
    '@echo off',
    'rem guestkit virt-v2v first boot: runs each script in scripts\\ once, then unregisters itself.',
    'setlocal EnableDelayedExpansion',
    `set "firstboot=${windowsPath(os, FIRSTBOOT_DIR)}"`,
    'if exist "%firstboot%\\complete" exit /b 0',
    'call :main >> "%firstboot%\\log.txt" 2>&1',
    'exit /b 0',
    '',
    ':main',
    'echo %date% %time% first boot as %USERNAME%',
    'if not exist "%firstboot%\\scripts-done" mkdir "%firstboot%\\scripts-done"',
    'set reboot=0',
    'for %%f in ("%firstboot%\\scripts\\*.bat") do (',
    '  echo running %%~nxf',
    '  pushd "%firstboot%"',
    '  call "%%f"',
    '  set elvl=!errorlevel!',
    '  popd',
    '  echo %%~nxf exited with !elvl!',
    '  rem 249: failed, try again at the next boot; 3010: done, reboot wanted.',
    '  if !elvl! NEQ 249 move /y "%%f" "%firstboot%\\scripts-done\\" >nul',
    '  if !elvl! EQU 3010 set reboot=1',
    ')',
    'if exist "%firstboot%\\scripts\\*.bat" exit /b 0',
    'type nul > "%firstboot%\\complete"',
    'echo all scripts done: removing the startup script',
    ...keys.map((k) => `reg delete "HKLM\\SOFTWARE\\${k}" /f`),
    restoreIni ? `copy /y "%firstboot%\\scripts.ini.orig" "${ini}"` : `del /f /a "${ini}"`,
    'if !reboot! EQU 1 shutdown /r /t 30 /c "guestkit: finishing the conversion to KVM"',
    'exit /b 0',
  ];
}

const crlf = (lines: string[]): string => `${lines.join('\r\n')}\r\n`;
