/** Whether a Windows guest keeps its hardware clock in UTC. */
import { REG, type Hive } from '../../../inspect/hive/hive.js';

/**
 * TimeZoneInformation\RealTimeIsUniversal, read as virt-v2v reads it: 1 (DWORD or QWORD)
 * means the hardware clock is UTC; absent or REG_NONE means local time, Windows' default;
 * another type is taken as UTC with a warning.
 */
export function rtcIsUniversal(system: Hive, controlSet: string, warn: (m: string) => void): boolean {
  const v = system.key(`${controlSet}\\Control\\TimeZoneInformation`)?.value('RealTimeIsUniversal');
  if (!v || v.type === REG.NONE) return false;
  if (v.type === REG.DWORD) return v.data.length === 4 && v.data.readUInt32LE(0) === 1;
  if (v.type === REG.QWORD) return v.data.length === 8 && v.data.readBigUInt64LE(0) === 1n;
  warn(`HKLM\\SYSTEM\\${controlSet}\\Control\\TimeZoneInformation\\RealTimeIsUniversal has type ${v.type}: taking the hardware clock to be UTC`);
  return true;
}
