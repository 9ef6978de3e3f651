/** Paths in a Windows guest: ours ('/Windows/System32') and as Windows and the report show them ('C:\Windows\System32'). */
import type { OsInfo } from '../../../inspect/os-info.js';

/** The drive letter of the OS's root filesystem (C when MountedDevices does not say). */
export function systemDrive(os: OsInfo): string {
  return os.driveLetters.find((d) => d.device === os.root)?.letter ?? 'C';
}

/** '/Windows/System32' → 'C:\Windows\System32'. */
export function windowsPath(os: OsInfo, path: string): string {
  return `${systemDrive(os)}:${path.replace(/\//g, '\\')}`;
}
