/**
 * Windows drive letters from HKLM\SYSTEM\MountedDevices: each `\DosDevices\X:` value names a
 * volume either by MBR disk signature and byte offset (12 bytes) or by GPT partition GUID
 * ("DMIO:ID:" and 16 bytes). Other forms (CD drives, removable media) name nothing we hold.
 */
import type { Partition } from '../../volume/types.js';
import { guidToString } from '../../volume/guid.js';
import type { Hive } from '../hive/hive.js';

const DMIO = 'DMIO:ID:';

export function driveLetters(system: Hive, partitions: Partition[]): { letter: string; device: string }[] {
  const out: { letter: string; device: string }[] = [];
  for (const v of system.key('MountedDevices')?.values() ?? []) {
    const letter = /^\\DosDevices\\([A-Za-z]):$/.exec(v.name)?.[1]?.toUpperCase();
    if (!letter) continue;
    const d = v.data;
    let part: Partition | undefined;
    if (d.length === 12) {
      const signature = d.readUInt32LE(0);
      const offset = d.readBigUInt64LE(4);
      part = partitions.find((p) => p.diskSignature === signature && p.start === offset);
    } else if (d.length === DMIO.length + 16 && d.toString('latin1', 0, DMIO.length) === DMIO) {
      const guid = guidToString(d, DMIO.length);
      part = partitions.find((p) => p.guid === guid);
    }
    if (part) out.push({ letter, device: part.name });
  }
  return out.sort((a, b) => (a.letter < b.letter ? -1 : 1));
}
