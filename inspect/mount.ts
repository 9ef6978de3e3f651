/** Mount an inspected OS's filesystems into the guest's namespace, as libguestfs's -i does. */
import type { Guest } from '../guest/guest.js';
import type { OsInfo } from './os-info.js';

/**
 * Mount `os`'s filesystems: root first, then shallower before deeper, so each lands on its
 * parent. One that fails to mount is reported through `warn` and skipped, as libguestfs does.
 */
export async function mountOs(guest: Guest, os: OsInfo, warn: (m: string) => void = () => undefined): Promise<void> {
  const order = [...os.mountpoints].sort((a, b) => a.mountpoint.split('/').filter(Boolean).length - b.mountpoint.split('/').filter(Boolean).length);
  for (const m of order) {
    if (guest.mounts.at(m.mountpoint)) continue;
    try {
      await guest.mount(m.device, m.mountpoint);
    } catch (e) {
      if (m.mountpoint === '/') throw e;
      warn(`${m.device} on ${m.mountpoint}: ${(e as Error).message}`);
    }
  }
}
