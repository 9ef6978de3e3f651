/**
 * Build a filter stack from text specs, the way nbdkit takes `--filter=NAME` plus `key=value`
 * parameters: `cache:size=64M`, `error:rate=0.1,file=/tmp/trigger`, `log:file=/tmp/x.log`.
 * As with nbdkit, the first spec is the outermost filter (nearest the caller).
 */
import type { BlockDevice } from '../block-device.js';
import { DiskError } from '../errors.js';
import { cacheKind } from './cache.js';
import { cowKind } from './cow.js';
import { delayKind } from './delay.js';
import { errorKind } from './error.js';
import type { FilterKind } from './filter-kind.js';
import { logKind } from './log.js';
import { readaheadKind } from './readahead.js';

export const filterKinds: readonly FilterKind[] = [cacheKind, readaheadKind, cowKind, logKind, delayKind, errorKind];

export interface FilterSpec {
  name: string;
  options: Map<string, string>;
}

/** Split `name:key=value,key=value` (values cannot contain commas). */
export function parseFilterSpec(spec: string): FilterSpec {
  const colon = spec.indexOf(':');
  const name = (colon < 0 ? spec : spec.slice(0, colon)).trim();
  const options = new Map<string, string>();
  if (colon >= 0 && spec.slice(colon + 1).trim() !== '') {
    for (const item of spec.slice(colon + 1).split(',')) {
      const eq = item.indexOf('=');
      const key = item.slice(0, eq).trim();
      if (eq < 0 || key === '' || item.slice(eq + 1).trim() === '') {
        throw specError(spec, `"${item}" is not key=value`);
      }
      if (options.has(key)) throw specError(spec, `option "${key}" given twice`);
      options.set(key, item.slice(eq + 1).trim());
    }
  }
  return { name, options };
}

/** Wrap `dev` in the filters `specs` name, outermost first. Every spec is checked before any is built. */
export function applyFilters(dev: BlockDevice, specs: readonly string[]): BlockDevice {
  const builders = specs.map((spec) => {
    const { name, options } = parseFilterSpec(spec);
    const kind = filterKinds.find((k) => k.name === name);
    if (!kind) throw specError(spec, `unknown filter "${name}" (known: ${filterKinds.map((k) => k.name).join(', ')})`);
    try {
      return { spec, build: kind.parse(options) };
    } catch (e) {
      throw specError(spec, (e as Error).message);
    }
  });
  let top = dev;
  for (const { spec, build } of builders.reverse()) {
    try {
      top = build(top);
    } catch (e) {
      throw e instanceof DiskError ? e : specError(spec, (e as Error).message);
    }
  }
  return top;
}

function specError(spec: string, detail: string): DiskError {
  return new DiskError(`--filter=${spec}`, detail, undefined, 'EINVAL');
}
