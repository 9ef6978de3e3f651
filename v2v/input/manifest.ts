/**
 * An OVA's manifest (`.mf`): `SHA1(disk1.vmdk)= 3f…` lines (SHA256 and SHA512 too, as
 * ovftool writes them), each checked against the named file's bytes, streamed.
 */
import { createHash } from 'node:crypto';
import type { BlockDevice } from '../../disk/block-device.js';
import { InputError } from './errors.js';

const LINE = /^(SHA1|SHA256|SHA512)\s*\((.+)\)\s*=\s*([0-9a-fA-F]+)$/;
const CHUNK = 4 << 20;

export interface ManifestLine {
  algorithm: 'sha1' | 'sha256' | 'sha512';
  name: string;
  digest: string;
}

export function parseManifest(text: string, file: string, warn: (m: string) => void): ManifestLine[] {
  const out: ManifestLine[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const m = LINE.exec(line);
    if (m) out.push({ algorithm: m[1]!.toLowerCase() as ManifestLine['algorithm'], name: m[2]!, digest: m[3]!.toLowerCase() });
    else warn(`${file}: cannot parse this manifest line, ignoring it: ${line.slice(0, 200)}`);
  }
  return out;
}

/** The digest of a whole device, read sequentially. */
export async function digestDevice(dev: BlockDevice, algorithm: ManifestLine['algorithm']): Promise<string> {
  const h = createHash(algorithm);
  for (let at = 0n; at < dev.size; ) {
    const n = dev.size - at < BigInt(CHUNK) ? Number(dev.size - at) : CHUNK;
    h.update(await dev.read(at, n));
    at += BigInt(n);
  }
  return h.digest('hex');
}

/** Check every line; `open` gives the named file's bytes (undefined when it is not there). */
export async function checkManifest(lines: ManifestLine[], manifest: string, open: (name: string) => Promise<BlockDevice | undefined>): Promise<void> {
  for (const line of lines) {
    const dev = await open(line.name);
    if (!dev) throw new InputError(manifest, `names "${line.name}", which is not in the OVA`);
    try {
      const digest = await digestDevice(dev, line.algorithm);
      if (digest !== line.digest) {
        throw new InputError(manifest, `${line.algorithm.toUpperCase()} of "${line.name}" is ${digest}, but the manifest says ${line.digest}: the file is corrupt or was changed`);
      }
    } finally {
      await dev.close();
    }
  }
}
