/** The first-boot scripts the conversion installs, in the order they run. */
import { DRIVER_DIR } from './drivers.js';
import type { FirstbootScript } from './firstboot.js';
import type { UninstallCommand } from './guest-tools.js';

const DRIVERS = `%SystemRoot%\\${DRIVER_DIR.replace(/\//g, '\\')}`;

/**
 * pnputil adds every virtio driver package to the driver store and installs it on the
 * devices present (DevicePath alone does not always do it, as virt-v2v found). A 32-bit
 * process on 64-bit Windows sees pnputil only through Sysnative.
 */
export function installDriversScript(): FirstbootScript {
  return {
    name: 'install-virtio-drivers',
    lines: [
      '@echo off',
      'set "pnputil=%SystemRoot%\\System32\\pnputil.exe"',
      'if exist "%SystemRoot%\\Sysnative\\pnputil.exe" set "pnputil=%SystemRoot%\\Sysnative\\pnputil.exe"',
      `for %%f in ("${DRIVERS}\\*.inf") do (`,
      '  echo installing %%~nxf',
      '  "%pnputil%" -i -a "%%f"',
      ')',
      'exit /b 0',
    ],
  };
}

/** The balloon service, which reports memory statistics to the host. */
export function balloonServiceScript(): FirstbootScript {
  return { name: 'install-balloon-service', lines: ['@echo off', `"${DRIVERS}\\blnsvr.exe" -i`, 'exit /b 0'] };
}

/** qemu-guest-agent from its MSI, copied into the first-boot directory (%firstboot%, set by the control script). */
export function qemuGaScript(msi: string): FirstbootScript {
  return {
    name: 'install-qemu-ga',
    lines: ['@echo off', `msiexec.exe /i "%firstboot%\\${msi}" /qn /norestart /l*v "%firstboot%\\${msi}.log"`, 'if errorlevel 3010 exit /b 3010', 'exit /b 0'],
  };
}

/** Another hypervisor's tools, uninstalled last: the uninstallers remove their drivers, and want a reboot. */
export function uninstallScript(u: UninstallCommand): FirstbootScript {
  return {
    name: u.script,
    lines: ['@echo off', ...u.before, `echo uninstalling ${u.displayName}`, u.command, 'rem ERROR_SUCCESS_REBOOT_REQUIRED: done, reboot wanted', 'if errorlevel 3010 exit /b 3010', 'exit /b 0'],
  };
}
