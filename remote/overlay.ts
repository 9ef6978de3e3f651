/**
 * A local qcow2 overlay over a remote disk, readable by qemu as well as by guestkit: its
 * backing name is qemu's curl `json:` spec with the session cookie, so `qemu-img convert`
 * reads the remote without logging in again. Writes land only in the overlay. The file holds
 * a session cookie, so it is made readable by its owner only.
 */
import { chmod, writeFile } from 'node:fs/promises';
import { createOverlay } from '../disk/qcow2/create.js';
import type { Qcow2Device } from '../disk/qcow2/device.js';
import { jsonBackingName, type RemoteDisk } from './open.js';

export interface RemoteOverlayOptions {
  /** Write `file.sslverify: off` (for self-signed vCenters). */
  noVerify?: boolean;
  /** qemu's readahead in bytes (`file.readahead`). */
  readahead?: number;
  /** qemu's request timeout in seconds (`file.timeout`). */
  timeout?: number;
}

export async function createRemoteOverlay(remote: RemoteDisk, path: string, o: RemoteOverlayOptions = {}): Promise<Qcow2Device> {
  const cookie = (await remote.http.cookie()) || undefined;
  const backingName = jsonBackingName(remote.http.url.href, { cookie, verify: o.noVerify ? false : undefined, readahead: o.readahead, timeout: o.timeout });
  await writeFile(path, '', { mode: 0o600 });
  await chmod(path, 0o600);
  return createOverlay(remote, path, { backingName, backingFormat: 'raw' });
}
