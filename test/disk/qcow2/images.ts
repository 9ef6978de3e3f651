/** qcow2 test images made by qemu-img/qemu-io, cached as fixture directories. */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fixture } from '../../fixtures/cache.js';
import { run } from '../../fixtures/run.js';

/**
 * Deterministic data that is neither all random nor all constant: blocks of counter-mode
 * hash output mixed with runs of a repeated byte, so qemu-img -c has something to squeeze.
 */
export function pattern(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  for (let off = 0, i = 0; off < size; off += 32, i++) {
    const block = createHash('sha256').update(`${seed}:${i}`).digest();
    if ((block[0]! & 3) === 0) block.fill(block[1]!);
    block.copy(out, off, 0, Math.min(32, size - off));
  }
  return out;
}

/** One step: `['raw', name, size, dataBytes, seed]` writes a raw file, else a command run in the dir. */
export type Step = string[];

/** A cached directory holding the images the steps made (backing names are relative). */
export function imageDir(name: string, steps: Step[]): Promise<string> {
  return fixture(`qcow2-${name}`, JSON.stringify(steps), async (dir) => {
    await mkdir(dir, { recursive: true });
    for (const [cmd, ...args] of steps) {
      if (cmd === 'raw') {
        const [file, size, dataBytes, seed] = args;
        const buf = Buffer.alloc(Number(size));
        pattern(Number(dataBytes), Number(seed)).copy(buf);
        await writeFile(join(dir, file!), buf);
      } else {
        await run(cmd!, args, { cwd: dir });
      }
    }
  });
}
