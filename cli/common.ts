/** What every guestkit command shares: -a/--format parsing in order, -m specs, errors. */
import { basename } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { DiskSpec } from '../guest/guest.js';
import { enableRemote, type RemoteFlags } from './remote.js';

export const diskOptions = {
  add: { type: 'string', short: 'a', multiple: true },
  format: { type: 'string' },
  filter: { type: 'string', multiple: true },
  'password-file': { type: 'string' },
  'no-verify': { type: 'boolean' },
  cacert: { type: 'string' },
  verbose: { type: 'boolean', short: 'v' },
  trace: { type: 'boolean', short: 'x' },
  help: { type: 'boolean' },
  version: { type: 'boolean', short: 'V' },
} as const satisfies ParseArgsConfig['options'];

export interface Parsed<V> {
  values: V;
  positionals: string[];
  disks: DiskSpec[];
}

/** Parse argv; `--format` applies to the -a options after it, as in libguestfs. */
export function parse<O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O) {
  const { values, positionals, tokens } = parseArgs({ args: argv, options, allowPositionals: true, tokens: true, strict: true });
  const disks: DiskSpec[] = [];
  let format: string | undefined;
  for (const t of tokens ?? []) {
    if (t.kind !== 'option') continue;
    if (t.name === 'format') format = t.value === 'auto' || !t.value ? undefined : t.value;
    if (t.name === 'add' && t.value !== undefined) disks.push({ path: t.value, format });
  }
  enableRemote(values as RemoteFlags, progName());
  return { values, positionals, disks };
}

/** Parse a tool's argv: undefined after printing --help; an error when no -a was given. */
export function parseTool<O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O, usage: string) {
  const parsed = parse(argv, options);
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(usage);
    return undefined;
  }
  if (parsed.disks.length === 0) throw new Error(`you must specify at least one -a option\n${usage}`);
  return parsed;
}

/** The options of tools that read files: -m specs, and -i (accepted as libguestfs's tools do). */
export const mountOptionSpecs = {
  mount: { type: 'string', short: 'm', multiple: true },
  inspector: { type: 'boolean', short: 'i' },
} as const satisfies ParseArgsConfig['options'];

/** A `-m dev[:mountpoint[:options[:fstype]]]` spec. */
export interface MountSpec {
  device: string;
  mountpoint: string;
  options?: string;
  fstype?: string;
}

export function parseMountSpec(spec: string): MountSpec {
  const [device = '', mountpoint = '/', options, fstype] = spec.split(':');
  if (!device) throw new Error(`-m ${spec}: no device named`);
  return { device, mountpoint: mountpoint || '/', options: options || undefined, fstype: fstype || undefined };
}

/** Turn "-o a=1,b" mount options into the driver's options record. */
export function mountOptions(opts: string | undefined): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  for (const o of (opts ?? '').split(',')) {
    if (!o) continue;
    const eq = o.indexOf('=');
    if (eq < 0) out[o] = true;
    else out[o.slice(0, eq)] = o.slice(eq + 1);
  }
  return out;
}

/** The command's name as it was run, for messages. */
export function progName(): string {
  return basename(process.argv[1] ?? 'guestkit').replace(/\.js$/, '');
}

/** Run a command's main, printing errors as `prog: message` and exiting 1 like libguestfs. */
export function main(fn: (argv: string[]) => Promise<number | void>): void {
  const prog = progName();
  fn(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code ?? 0;
    },
    (e: unknown) => {
      const err = e as Error;
      process.stderr.write(`${prog}: ${err.message}\n`);
      if (process.env['GUESTKIT_DEBUG']) process.stderr.write(`${err.stack}\n`);
      process.exitCode = 1;
    },
  );
}
