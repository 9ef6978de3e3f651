/**
 * A command's output written straight to descriptor 1. Making `process.stdout` loads Node's
 * stream modules, a few milliseconds of a short command's start, and buys nothing here:
 * stdout writes are synchronous on Linux either way. A closed pipe (`| head`) ends the output
 * quietly, as SIGPIPE ends a C tool's; a non-blocking descriptor that fills up (EAGAIN) hands
 * the rest to `process.stdout`, which waits for room.
 */
import { writeSync } from 'node:fs';

export function printOut(text: string): void {
  const buf = Buffer.from(text);
  let done = 0;
  try {
    while (done < buf.length) done += writeSync(1, buf, done);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EPIPE') return;
    if (code !== 'EAGAIN') throw e;
    process.stdout.write(buf.subarray(done));
  }
}
