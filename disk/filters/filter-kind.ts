/**
 * How a filter is named and configured from text (`--filter=name:key=value,...`), the way
 * nbdkit filters take `key=value` parameters. Each filter file exports one FilterKind next to
 * its typed factory; `stack.ts` lists them.
 */
import type { BlockDevice } from '../block-device.js';

/** One text parser per option a filter accepts from a spec string. */
export type OptionParsers<O> = { [K in keyof O]?: (text: string) => NonNullable<O[K]> };

export interface FilterKind {
  readonly name: string;
  /** Option keys a spec may give, for error messages and docs. */
  readonly keys: readonly string[];
  /**
   * Check and parse every option now (so a bad spec fails before anything is built), and
   * return what wraps a device with them.
   */
  parse(options: ReadonlyMap<string, string>): (dev: BlockDevice) => BlockDevice;
}

export function filterKind<O extends object>(
  name: string,
  parsers: OptionParsers<O>,
  create: (dev: BlockDevice, opts: O) => BlockDevice,
): FilterKind {
  const keys = Object.keys(parsers);
  return {
    name,
    keys,
    parse(options) {
      const opts: Record<string, unknown> = {};
      for (const [key, text] of options) {
        const parser = (parsers as Record<string, ((t: string) => unknown) | undefined>)[key];
        if (!parser) {
          throw new Error(`unknown option "${key}" for filter ${name} (known: ${keys.join(', ') || 'none'})`);
        }
        try {
          opts[key] = parser(text);
        } catch (e) {
          throw new Error(`option "${key}" of filter ${name}: ${(e as Error).message}`);
        }
      }
      return (dev) => create(dev, opts as O);
    },
  };
}
