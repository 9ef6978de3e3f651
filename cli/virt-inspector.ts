#!/usr/bin/env node
/** virt-inspector: say which operating systems a disk image holds, as XML (libguestfs's) or JSON. */
import { inspectGuest, type Inspection } from '../inspect/inspect.js';
import { diskOptions, main, parse, parseTool, UsageError } from './common.js';
import { inspectorXml } from './inspector-xml.js';
import { openGuest, warn } from './open.js';
import { printOut } from './print.js';

const USAGE = `Usage: virt-inspector -a IMAGE [-a IMAGE...] [--format=raw|qcow2|vmdk] [--json] [--no-applications]
       virt-inspector --each [--format=FMT] [--no-applications] IMAGE...
`;

const options = {
  ...diskOptions,
  json: { type: 'boolean' },
  'no-applications': { type: 'boolean' },
  each: { type: 'boolean' },
} as const;

main(async (argv) => {
  const { values: v, positionals } = parse(argv, options);
  const applications = !v['no-applications'];
  if (v.each && !v.help && !v.version) {
    if (positionals.length === 0) throw new UsageError('--each: no images given', USAGE);
    const images = positionals.map((path) => ({ path, format: v.format === 'auto' ? undefined : v.format }));
    const { inspectEach } = await import('./inspect-each.js');
    return (await inspectEach(images, applications, v, (line) => printOut(`${line}\n`))) ? 1 : 0;
  }
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
    printOut(v.json ? `${JSON.stringify(jsonOf(result), null, 2)}\n` : inspectorXml(result.oses));
  } finally {
    await guest.close();
  }
});

const jsonOf = (r: Inspection) => ({ operatingsystems: r.oses, warnings: r.warnings });
