/**
 * Call tracing, as libguestfs's `-x` (set_trace): every method call on the Guest and on the
 * filesystems it opens becomes one line, written when the call returns, with its arguments
 * and a short form of its result. Calls a method makes internally are not traced.
 */
export type TraceSink = (line: string) => void;

export function traced<T extends object>(target: T, label: string, sink: TraceSink): T {
  return new Proxy(target, {
    get(t, prop) {
      const value: unknown = Reflect.get(t, prop, t);
      if (typeof value !== 'function' || typeof prop === 'symbol' || prop === 'constructor') return value;
      return (...args: unknown[]) => {
        const call = `${label}.${prop}(${args.map(show).join(', ')})`;
        const done = (r: unknown) => {
          sink(`${call} = ${show(r)}`);
          return r;
        };
        const failed = (e: unknown): never => {
          sink(`${call} = error: ${(e as Error).message}`);
          throw e;
        };
        let result: unknown;
        try {
          result = (value as (...a: unknown[]) => unknown).apply(t, args);
        } catch (e) {
          return failed(e);
        }
        return result instanceof Promise ? result.then(done, failed) : done(result);
      };
    },
  });
}

/** A short, single-line form of an argument or result. */
function show(v: unknown): string {
  if (v === undefined) return 'ok';
  if (typeof v === 'string') return JSON.stringify(v.length > 200 ? `${v.slice(0, 200)}…` : v);
  if (typeof v !== 'object' || v === null) return String(v);
  if (v instanceof Uint8Array) return `<${v.length} bytes>`;
  if (Array.isArray(v)) return `[${v.length} items]`;
  const o = v as Record<string, unknown>;
  if (typeof o['ino'] === 'number' && typeof o['mode'] === 'number') return `{ino: ${o['ino']}, mode: 0o${o['mode'].toString(8)}, size: ${String(o['size'])}}`;
  if (typeof o['type'] === 'string' && typeof o['rootIno'] === 'number') return `<${o['type']} filesystem>`;
  return `{${Object.keys(o).slice(0, 8).join(', ')}}`;
}
