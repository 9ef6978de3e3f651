/** What every guestkit command shares: -a/--format parsing in order, -m specs, -V, errors. */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { FormatNeededError } from '../disk/errors.js';
import { GuestError, type GuestErrorKind } from '../guest/errors.js';
import type { DiskSpec } from '../guest/guest.js';
import { enableRemote, type RemoteFlags } from './remote.js';
import { escapeText } from './escape.js';
import { printOut } from './print.js';

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

/** The values every tool has (from `diskOptions`, and `-i`/`-m` where the tool takes them). */
export interface CommonValues {
  filter?: string[];
  verbose?: boolean;
  trace?: boolean;
  help?: boolean;
  version?: boolean;
  inspector?: boolean;
  mount?: string[];
}

export interface Parsed<V> {
  values: V;
  positionals: string[];
  disks: DiskSpec[];
}

/** The command's name, as messages start with it ("virt-ls: …"). */
export const prog = basename(process.argv[1] ?? 'guestkit').replace(/\.js$/, '');

/** A wrong command line: printed with the usage text. */
export class UsageError extends Error {
  constructor(message: string, readonly usage: string) {
    super(message);
  }
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
  enableRemote(values as RemoteFlags, prog);
  return { values, positionals, disks };
}

/**
 * Parse a tool's argv: undefined after printing --help or -V; an error when no -a was given,
 * or for an option accepted for compatibility but not built yet (never accepted and ignored).
 */
export function parseTool<O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O, usage: string) {
  const parsed = parse(argv, options);
  const v = parsed.values as CommonValues;
  if (v.help) {
    printOut(usage);
    return undefined;
  }
  if (v.version) {
    printOut(`${prog} ${version()}\n`);
    return undefined;
  }
  if (parsed.disks.length === 0) throw new UsageError('you must specify at least one -a option', usage);
  return parsed;
}

/** guestkit's version from its package.json, found upward: the bundles' chunks sit deeper than the commands. */
export function version(): string {
  for (let up = '../'; up.length <= 12; up += '../') {
    try {
      const pkg = JSON.parse(readFileSync(new URL(`${up}package.json`, import.meta.url), 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'guestkit') return pkg.version;
    } catch {
      // not at this level: look one up
    }
  }
  throw new Error('cannot find guestkit\'s package.json');
}

/** The options of tools that read files: -m specs, and -i (inspect and mount what the OS mounts). */
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

/** The option that fixes each library error a user can meet (the library names no options). */
const HINTS: Partial<Record<GuestErrorKind, string>> = {
  'no-disks': 'use -a IMAGE',
  'not-mounted': 'mount one with -m DEVICE[:MOUNTPOINT]',
  'unknown-fstype': 'it is the fourth field of -m DEVICE:MOUNTPOINT:OPTIONS:FSTYPE',
};

/** The line printed for an error: the library's message, plus the option that fixes it. */
export function describeError(e: unknown): string {
  const err = e as Error;
  let hint = err instanceof GuestError ? HINTS[err.kind] : undefined;
  for (let c: unknown = err; c instanceof Error; c = c.cause) {
    if (c instanceof FormatNeededError) hint = `use --format=${c.format}`;
  }
  return escapeText(hint ? `${err.message}; ${hint}` : err.message);
}

/** Run a command's main, printing errors as `prog: message` and exiting 1 like libguestfs. */
export function main(fn: (argv: string[]) => Promise<number | void>): void {
  fn(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code ?? 0;
    },
    (e: unknown) => {
      const err = e as NodeJS.ErrnoException;
      // A reader that went away (`virt-ls … | head`) is no error to report.
      if (err.code !== 'EPIPE') {
        process.stderr.write(`${prog}: ${describeError(err)}\n`);
        if (err instanceof UsageError) process.stderr.write(err.usage);
        if (process.env['GUESTKIT_DEBUG']) process.stderr.write(`${err.stack}\n`);
      }
      process.exitCode = 1;
    },
  );
}
