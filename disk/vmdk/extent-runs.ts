/** Building `extents()` answers: adjacent runs of the same kind are merged into one. */
import type { Extent } from '../block-device.js';

export function appendRun(runs: Extent[], offset: bigint, length: bigint, hole: boolean, zero: boolean): void {
  const last = runs[runs.length - 1];
  if (last && last.hole === hole && last.zero === zero && last.offset + last.length === offset) last.length += length;
  else runs.push({ offset, length, hole, zero });
}
