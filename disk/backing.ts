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

/** Keys of a `json:` name whose values are credentials: never shown in a message. */
const SECRET_KEY = /cookie|password|secret|token|auth/i;

/** A disk or backing name as a message may show it: credentials in `json:` keys and users in URLs hidden. */
export function shownDiskName(name: string): string {
  const noUser = (s: string) => s.replace(/\/\/[^@/]*@/g, '//');
  if (!name.startsWith('json:')) return noUser(name).slice(0, 200);
  try {
    const spec: unknown = JSON.parse(name.slice('json:'.length), (k, v: unknown) => (SECRET_KEY.test(k) ? '(hidden)' : typeof v === 'string' ? noUser(v) : v));
    return `json:${JSON.stringify(spec)}`.slice(0, 300);
  } catch {
    return 'json:(not valid json)';
  }
}

/** Open a `json:` backing name; the driver is `file.driver` (nested or dotted, as qemu writes both) or `driver`. */
export async function openJsonBacking(name: string, fromImage: string): Promise<BlockDevice> {
  let spec: unknown;
  try {
    spec = JSON.parse(name.slice('json:'.length));
  } catch {
    throw new DiskError(fromImage, 'backing file name starts with json: but is not valid json');
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
