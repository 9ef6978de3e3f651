#!/usr/bin/env node
/**
 * virt-v2v: convert a VMware (or any local) guest to run on KVM. Options as libguestfs's
 * virt-v2v takes them, single-dash long ones (`-os DIR`) included.
 */
import { parseArgs } from 'node:util';
import { NetworkMap, type VnetType } from '../v2v/output/networks.js';
import type { Output, OutputOptions } from '../v2v/output/output.js';
import { main, prog, UsageError, version } from './common.js';
import { escapeText } from './escape.js';
import { progressBar, progressLines, type ProgressSink } from './progress.js';

const USAGE = `Usage: virt-v2v -i disk|vmx|ova|libvirtxml [-if FORMAT] [-ic vpx://… -ip FILE [--cacert FILE]] SOURCE...
                -o local|qemu|null [-os DIR] [-of raw|qcow2] [-oa sparse|preallocated] [-on NAME]
                [--mac MAC:network|bridge:NAME] [-b|--bridge [IN:]OUT] [-n|--network [IN:]OUT]
                [--parallel N] [--print-source] [--machine-readable] [-q] [-v] [-x]
`;

const options = {
  input: { type: 'string', short: 'i' },
  ic: { type: 'string' },
  if: { type: 'string' },
  ip: { type: 'string' },
  cacert: { type: 'string' },
  output: { type: 'string', short: 'o' },
  os: { type: 'string' },
  of: { type: 'string' },
  oa: { type: 'string' },
  on: { type: 'string' },
  mac: { type: 'string', multiple: true },
  bridge: { type: 'string', short: 'b', multiple: true },
  network: { type: 'string', short: 'n', multiple: true },
  parallel: { type: 'string' },
  'print-source': { type: 'boolean' },
  'machine-readable': { type: 'string' },
  'debug-overlays': { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  verbose: { type: 'boolean', short: 'v' },
  trace: { type: 'boolean', short: 'x' },
  help: { type: 'boolean' },
  version: { type: 'boolean', short: 'V' },
} as const;

/** virt-v2v's single-dash long options (`-os DIR`, `-of=qcow2`), which parseArgs would read as bundles of short ones. */
const SINGLE_DASH = /^-(ic|if|ip|it|os|of|oa|on|oc|op|oo|io)(=.*)?$/;

/** What --machine-readable alone prints: what this virt-v2v can do, one capability a line. */
const CAPABILITIES = ['virt-v2v', 'guestkit', 'mac-option', 'input:disk', 'input:libvirtxml', 'input:ova', 'input:vmx', 'input:vpx', 'output:local', 'output:null', 'output:qemu', 'convert:linux', 'convert:windows'];

main(async (argv) => {
  const machineFlag = argv.some((a) => a === '--machine-readable' || a.startsWith('--machine-readable='));
  // --machine-readable takes an optional value: give the bare flag an empty one.
  const args = argv.map((a) => (SINGLE_DASH.test(a) ? `-${a}` : a === '--machine-readable' ? '--machine-readable=' : a));
  const unsupported = args.find((a) => /^--(it|oc|op|oo|io)(=|$)/.test(a));
  if (unsupported) throw new UsageError(`${unsupported.slice(1)}: this option is not supported by guestkit's virt-v2v`, USAGE);
  const { values: v, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true });
  if (v.help) return void process.stdout.write(USAGE);
  if (v.version) return void process.stdout.write(`${prog} ${version()}\n`);
  if (machineFlag && argv.length === 1) return void process.stdout.write(`${CAPABILITIES.join('\n')}\n`);
  const machine = v['machine-readable'] !== undefined;
  if (machine && v['machine-readable'] !== '' && v['machine-readable'] !== 'stream:stdout') {
    throw new UsageError(`--machine-readable=${v['machine-readable']}: only stdout is supported`, USAGE);
  }
  const out = messages({ machine, quiet: v.quiet ?? false });

  const kind = inputKind(v.input, v.ic);
  const networks = networkMap(v.mac ?? [], v.network ?? [], v.bridge ?? []);
  const parallel = v.parallel === undefined ? 1 : Number(v.parallel);
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > 64) throw new UsageError(`--parallel ${v.parallel}: expecting a number from 1 to 64`, USAGE);
  const output = v['print-source'] ? undefined : await outputOf(v.output, v.os, { name: v.on, format: oneOf('-of', v.of ?? 'raw', ['raw', 'qcow2']), allocation: oneOf('-oa', v.oa ?? 'sparse', ['sparse', 'preallocated']), networks });

  const { openInput } = await import('../v2v/input/open.js');
  const started = Date.now();
  const say = (m: string) => out.message(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)}] ${m}`, 'message');
  say(`Setting up the source: -i ${kind} ${positionals.join(' ')}`);
  const source = await openInput(kind, positionals, {
    format: v.if,
    passwordFile: v.ip,
    connection: v.ic,
    caFile: v.cacert,
    warn: out.warn,
    debug: v.verbose ? (m) => out.verbose(m) : undefined,
  });
  try {
    if (!output) {
      const { printSource } = await import('../v2v/input/print.js');
      process.stdout.write(printSource(source));
      return 0;
    }
    const bar = !machine && !v.quiet && process.stderr.isTTY ? progressBar(process.stderr) : undefined;
    const progress: ProgressSink | undefined = machine ? progressLines((l) => process.stdout.write(`${l}\n`)) : bar?.update;
    const { v2v } = await import('../v2v/v2v.js');
    const result = await v2v(source, output, {
      name: v.on,
      virtioWin: process.env['VIRTIO_WIN'],
      keepOverlays: v['debug-overlays'],
      message: (m) => {
        bar?.end();
        say(m);
      },
      report: (change) => out.message(change, 'info'),
      warn: out.warn,
      debug: v.verbose ? (m) => out.verbose(m) : undefined,
      trace: v.trace ? (l) => process.stderr.write(`${prog}: trace: ${escapeText(l)}\n`) : undefined,
      parallel,
      progress,
    });
    bar?.end();
    for (const o of result.overlays ?? []) out.message(`Overlay saved as ${o} [--debug-overlays]`, 'info');
    return 0;
  } finally {
    await source.close();
  }
});

/** The input kind: -i, or vpx for a vpx:// -ic (libguestfs's -i libvirt over vCenter). */
function inputKind(i: string | undefined, ic: string | undefined) {
  const vpx = ic?.startsWith('vpx://') ?? false;
  if (i === undefined && !vpx) throw new UsageError('no input given: use -i disk|vmx|ova|libvirtxml or -ic vpx://…', USAGE);
  if ((i === undefined || i === 'libvirt') && vpx) return 'vpx' as const;
  if (ic !== undefined && !vpx) throw new UsageError(`-ic ${ic}: only vpx:// connections are supported`, USAGE);
  return oneOf('-i', i!, ['disk', 'vmx', 'ova', 'libvirtxml'] as const);
}

async function outputOf(o: string | undefined, os: string | undefined, opts: OutputOptions): Promise<Output> {
  if (o === undefined) throw new UsageError('no output given: use -o local|qemu|null', USAGE);
  const kind = oneOf('-o', o, ['local', 'qemu', 'null'] as const);
  if (kind === 'null') {
    const { NullOutput } = await import('../v2v/output/null.js');
    return new NullOutput();
  }
  if (os === undefined) throw new UsageError(`-o ${kind}: -os DIRECTORY is required`, USAGE);
  const outputs = await import('../v2v/output/dir-output.js');
  return kind === 'local' ? outputs.localOutput(os, opts) : outputs.qemuOutput(os, opts);
}

function oneOf<T extends string>(option: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`${option} ${value}: expecting ${allowed.join(', ')}`, USAGE);
  return value as T;
}

/** --mac MAC:network|bridge:NAME, --network [IN:]OUT and --bridge [IN:]OUT, as virt-v2v reads them. */
function networkMap(macs: string[], networks: string[], bridges: string[]): NetworkMap {
  const map = new NetworkMap();
  const add = (fn: () => void, option: string) => {
    try {
      fn();
    } catch (e) {
      throw new UsageError(`${option}: ${(e as Error).message}`, USAGE);
    }
  };
  for (const m of macs) {
    const match = /^((?:[0-9a-f]{2}:){5}[0-9a-f]{2}):(network|bridge):(.+)$/i.exec(m);
    if (!match) throw new UsageError(`--mac ${m}: expecting MAC:network:NAME or MAC:bridge:NAME`, USAGE);
    add(() => map.addMac(match[1]!, { type: match[2]!.toLowerCase() as VnetType, name: match[3]! }), `--mac ${m}`);
  }
  for (const [type, list] of [['network', networks], ['bridge', bridges]] as const) {
    for (const spec of list) {
      const cut = spec.indexOf(':');
      const [from, to] = cut < 0 ? [undefined, spec] : [spec.slice(0, cut), spec.slice(cut + 1)];
      if (to === '' || from === '') throw new UsageError(`--${type} ${spec}: expecting [IN:]OUT`, USAGE);
      add(() => map.add(type, from, to), `--${type} ${spec}`);
    }
  }
  return map;
}

/** Where messages go: `[  1.2] step` lines on stdout, or one JSON object a line with --machine-readable; -q silences both. */
function messages({ machine, quiet }: { machine: boolean; quiet: boolean }) {
  const json = (type: string, message: string) =>
    process.stdout.write(`${JSON.stringify({ message, timestamp: new Date().toISOString(), type })}\n`);
  return {
    message(line: string, type: 'message' | 'info') {
      if (machine) json(type, line);
      else if (!quiet) process.stdout.write(`${type === 'info' ? `${prog}: ` : ''}${escapeText(line)}\n`);
    },
    warn(message: string) {
      if (machine) json('warning', message);
      else process.stderr.write(`${prog}: warning: ${escapeText(message)}\n`);
    },
    verbose(message: string) {
      process.stderr.write(`${prog}: verbose: ${escapeText(message)}\n`);
    },
  };
}
