/** Shared by the end-to-end tests: run the built commands, and copy byte ranges into images. */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, runStatus } from '../fixtures/run.js';

export const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin');

/** Run a guestkit command; throws unless it exits 0. */
export const tool = (name: string, args: string[]) => run(process.execPath, [join(BIN, `${name}.js`), ...args]);

/** Run a guestkit command and return its exit code, stdout and stderr. */
export const toolStatus = (name: string, args: string[]) => runStatus(process.execPath, [join(BIN, `${name}.js`), ...args]);

/** Copy `length` bytes of `src` at `from` into `dst` at `to`, leaving the rest of `dst` as it is. */
export const place = (src: string, dst: string, from: number, to: number, length: number) =>
  run('dd', [`if=${src}`, `of=${dst}`, 'bs=1M', `skip=${from}`, `seek=${to}`, `count=${length}`,
    'iflag=skip_bytes,count_bytes', 'oflag=seek_bytes', 'conv=notrunc,sparse', 'status=none']);
