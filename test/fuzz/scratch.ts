/**
 * Scratch space of fuzz workers (targets that read a path write each case there). The runner
 * terminates workers at a hang or the deadline, when no exit handler of theirs runs, so the
 * space is per run (the main thread's pid, which workers share) and the runner removes it.
 */
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const FUZZ_SCRATCH = join(tmpdir(), `guestkit-fuzz-${process.pid}`);

export function removeFuzzScratch(): Promise<void> {
  return rm(FUZZ_SCRATCH, { recursive: true, force: true });
}
