#!/usr/bin/env node
/** virt-inspector: say which operating systems a disk image holds, as XML (libguestfs's) or JSON. */
import { availableParallelism } from 'node:os';
import { Guest, type DiskSpec } from '../guest/guest.js';
import { inspectGuest, type Inspection } from '../inspect/inspect.js';
import { diskOptions, main, parse, parseTool, UsageError } from './common.js';
import { inspectorXml } from './inspector-xml.js';
import { openGuest, warn } from './open.js';

const USAGE = `Usage: virt-inspector -a IMAGE [-a IMAGE...] [--format=raw|qcow2|vmdk] [--json] [--no-applications]
       virt-inspector --each [--format=FMT] [--no-applications] IMAGE...
`;

const options = {
  ...diskOptions,
  json: { type: 'boolean' },
  'no-applications': { type: 'boolean' },
  each: { type: 'boolean' },
} as const;

/** Images inspected at once by --each: enough to keep both reads and the CPU busy, few enough to bound memory. */
const EACH_PARALLEL = Math.max(4, availableParallelism() * 4);

main(async (argv) => {
  const { values: v, positionals } = parse(argv, options);
  const applications = !v['no-applications'];
  if (v.each && !v.help && !v.version) return each(positionals.map((path) => ({ path, format: v.format === 'auto' ? undefined : v.format })), applications);
  const parsed = parseTool(argv, options, USAGE);
  if (!parsed) return 0;
  if (positionals.length > 0) throw new UsageError(`unexpected argument: ${positionals[0]}`, USAGE);
  const guest = await openGuest(parsed.disks, parsed.values);
  try {
    const result = await inspectGuest(guest, { applications });
    for (const w of result.warnings) warn(w);
    if (result.oses.length === 0) {
      throw new Error('no operating system could be detected inside this disk image.\n\nThis may be because the file is not a disk image, or is not a virtual machine image, or because the OS type is not understood by guestkit.');
    }
    process.stdout.write(v.json ? `${JSON.stringify(jsonOf(result), null, 2)}\n` : inspectorXml(result.oses));
  } finally {
    await guest.close();
  }
});

const jsonOf = (r: Inspection) => ({ operatingsystems: r.oses, warnings: r.warnings });

/** Inspect each image as a guest of its own, a bounded number at once; one JSON line each, as it finishes. */
async function each(images: DiskSpec[], applications: boolean): Promise<number> {
  if (images.length === 0) throw new Error(`--each: no images given\n${USAGE}`);
  const { default: pLimit } = await import('p-limit');
  const limit = pLimit(EACH_PARALLEL);
  let failed = 0;
  await Promise.all(images.map((disk) => limit(async () => {
    let line: object;
    try {
      // The drivers' own warnings (a journal replayed in memory) belong on this image's line too.
      const driverWarnings: string[] = [];
      const guest = await Guest.open([disk], { readonly: true, warn: (m) => driverWarnings.push(m) });
      try {
        const r = await inspectGuest(guest, { applications });
        line = { image: disk.path, operatingsystems: r.oses, warnings: [...guest.scan.warnings, ...driverWarnings, ...r.warnings] };
      } finally {
        await guest.close();
      }
    } catch (e) {
      failed++;
      line = { image: disk.path, error: (e as Error).message };
    }
    process.stdout.write(`${JSON.stringify(line)}\n`);
  })));
  return failed ? 1 : 0;
}
