/**
 * Remote disks for the tools: `-a https://...` and qcow2 overlays whose backing is a `json:`
 * URL. The openers registered here load `remote/` (and with it undici, tough-cookie and
 * p-limit) only when a URL is actually opened, so local images start as fast as before.
 */
import { registerJsonBackingResolver } from '../disk/backing.js';
import { registerSourceOpener } from '../disk/open.js';
import type { RemoteOptions } from '../remote/open.js';

/** The command-line flags that reach remote disks. */
export interface RemoteFlags {
  'password-file'?: string;
  'no-verify'?: boolean;
  cacert?: string;
  verbose?: boolean;
}

export function enableRemote(flags: RemoteFlags, prog: string): void {
  const opts: RemoteOptions = {
    passwordFile: flags['password-file'],
    verify: !flags['no-verify'],
    caFile: flags.cacert,
    // -v traces requests: method, URL without credentials, range, status; never headers.
    log: flags.verbose ? (line) => process.stderr.write(`${prog}: ${line}\n`) : undefined,
  };
  const load = () => import('../remote/open.js');
  for (const scheme of ['http', 'https']) {
    registerSourceOpener(scheme, async (name, writable) => (await load()).remoteOpener(opts)(name, writable));
    registerJsonBackingResolver(scheme, async (spec, from) => (await load()).jsonResolver(opts)(spec, from));
  }
}
