/** /etc/fstab: which of our devices a Linux guest mounts where. */
import type { DeviceNames } from '../devices.js';

export interface FstabEntry {
  mountpoint: string;
  device: string;
  type: string;
}

/** Entries whose device we have, in file order; swap included (mountpoint "swap"), pseudo filesystems not. */
export function parseFstab(text: string, names: DeviceNames, warn: (m: string) => void): FstabEntry[] {
  const out: FstabEntry[] = [];
  for (const line of text.split('\n')) {
    const [spec, mp, type = ''] = line.replace(/#.*/, '').trim().split(/\s+/);
    if (!spec || !mp) continue;
    const swap = type === 'swap' || mp === 'swap' || mp === 'none';
    if (!swap && !mp.startsWith('/')) continue;
    if (!spec.startsWith('/dev/') && !/^(UUID|LABEL|PARTUUID|PARTLABEL)=/.test(spec)) continue;
    const device = names.resolve(spec);
    if (device) out.push({ mountpoint: swap ? 'swap' : unescapeOctal(mp), device, type });
    else warn(`/etc/fstab: ${spec} (${mp}): no such device in this guest`);
  }
  return out;
}

/** fstab writes spaces in mountpoints as \040. */
function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}
