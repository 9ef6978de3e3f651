/** Open the guest for a command: -v, -x and warnings go to stderr as `prog: …` lines. */
import { Guest, type DiskSpec } from '../guest/guest.js';
import type { CommonValues } from './common.js';
import { prog } from './common.js';
import { escapeText } from './escape.js';

const say = (line: string) => process.stderr.write(`${prog}: ${escapeText(line)}\n`);

export function warn(message: string): void {
  say(`warning: ${message}`);
}

/** Open the images (read-only unless asked) with the tool's -v/-x/--filter, and report the scan's warnings. */
export async function openGuest(disks: DiskSpec[], v: CommonValues, readonly = true): Promise<Guest> {
  const guest = await Guest.open(disks, {
    readonly,
    filters: v.filter,
    warn,
    debug: v.verbose ? (m) => say(`verbose: ${m}`) : undefined,
    trace: v.trace ? (l) => say(`trace: ${l}`) : undefined,
  });
  for (const w of guest.scan.warnings) warn(w);
  return guest;
}
