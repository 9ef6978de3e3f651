/**
 * Plug remote disks into `disk/` for library users: `openDisk('https://...')` and qcow2
 * overlays with a curl `json:` backing then open through `remote/`. (The tools register a
 * lazy version of this in `cli/remote.ts`, so local images never load `remote/`.)
 */
import { registerJsonBackingResolver } from '../disk/backing.js';
import { registerSourceOpener } from '../disk/open.js';
import { jsonResolver, remoteOpener, type RemoteOptions } from './open.js';

export const REMOTE_SCHEMES = ['http', 'https'] as const;

export function registerRemote(opts: RemoteOptions = {}): void {
  for (const scheme of REMOTE_SCHEMES) {
    registerSourceOpener(scheme, remoteOpener(opts));
    registerJsonBackingResolver(scheme, jsonResolver(opts));
  }
}
