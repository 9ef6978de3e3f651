/**
 * VMware Tools' uninstall commands, from the SOFTWARE hive's Uninstall entries (64-bit and
 * WOW6432Node) whose DisplayName holds "VMware Tools", as virt-v2v finds them. VMware's
 * installer records its *install* command ("MsiExec.exe /I{GUID}") as the UninstallString
 * (RHBZ#1917760), so /I becomes /X; MSI options make it quiet, without a reboot, logged
 * next to the first-boot script.
 */
import { REG, type Hive } from '../../../inspect/hive/hive.js';

const UNINSTALL_KEYS = ['Microsoft\\Windows\\CurrentVersion\\Uninstall', 'WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall'];

export interface UninstallCommand {
  /** The Uninstall entry's key name and DisplayName, for the report. */
  key: string;
  displayName: string;
  command: string;
}

export function vmwareToolsUninstalls(software: Hive, warn: (m: string) => void): UninstallCommand[] {
  const out: UninstallCommand[] = [];
  for (const path of UNINSTALL_KEYS) {
    for (const entry of software.key(path)?.subkeys() ?? []) {
      const display = stringValue(entry.value('DisplayName'));
      if (display === undefined || !display.includes('VMware Tools')) continue;
      const uninstall = stringValue(entry.value('UninstallString'));
      if (uninstall === undefined) {
        warn(`cannot uninstall ${display}: HKLM\\SOFTWARE\\${path}\\${entry.name} has no UninstallString`);
        continue;
      }
      const command = /msiexec/i.test(uninstall) ? uninstall.replace(/\/i/i, '/X') : uninstall;
      out.push({ key: `${path}\\${entry.name}`, displayName: display, command: `${command} /quiet /norestart /l*v+ "%~dpn0.log" REBOOT=ReallySuppress REMOVE=ALL` });
    }
  }
  return out;
}

function stringValue(v: { type: number; string(): string } | undefined): string | undefined {
  return v && (v.type === REG.SZ || v.type === REG.EXPAND_SZ) ? v.string() : undefined;
}
