/**
 * Resolvers for `json:` backing names (`json:{"file":{"driver":"https",...}}`). `remote/`
 * registers one per driver, so `disk/` never imports `remote/`.
 */
import type { BlockDevice } from './block-device.js';
import { DiskError } from './errors.js';

export type JsonBackingResolver = (spec: Record<string, unknown>, fromImage: string) => Promise<BlockDevice>;

const resolvers = new Map<string, JsonBackingResolver>();

export function registerJsonBackingResolver(driver: string, resolver: JsonBackingResolver): void {
  resolvers.set(driver, resolver);
}

/** Open a `json:` backing name; the driver is `file.driver` (nested or dotted, as qemu writes both) or `driver`. */
export async function openJsonBacking(name: string, fromImage: string): Promise<BlockDevice> {
  let spec: unknown;
  try {
    spec = JSON.parse(name.slice('json:'.length));
  } catch {
    throw new DiskError(fromImage, `backing file name is not valid json: ${name.slice(0, 80)}`);
  }
  if (typeof spec !== 'object' || spec === null) throw new DiskError(fromImage, 'json: backing name is not an object');
  const obj = spec as Record<string, unknown>;
  const file = (typeof obj['file'] === 'object' && obj['file'] !== null ? obj['file'] : flatFileKeys(obj)) as Record<string, unknown>;
  const driver = String(file['driver'] ?? '');
  const resolver = resolvers.get(driver);
  if (!resolver) throw new DiskError(fromImage, `no resolver for json: backing driver "${driver}"`);
  return resolver(file, fromImage);
}

/** qemu's dotted form `{"file.driver": "https", "file.url": ...}` as the nested `file` object. */
function flatFileKeys(obj: Record<string, unknown>): Record<string, unknown> {
  const dotted = Object.entries(obj).filter(([k]) => k.startsWith('file.'));
  return dotted.length === 0 ? obj : Object.fromEntries(dotted.map(([k, v]) => [k.slice('file.'.length), v]));
}
