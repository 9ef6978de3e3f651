/** The ext4 image the ext4 and mount benchmarks share: 10,000 empty files in /dir and a 1 GiB /big. */
import { mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fixture } from '../test/fixtures/cache.js';
import { run, runStatus } from '../test/fixtures/run.js';

export const FILES = 10_000;
export const BIG = 1 << 30;

export async function image(): Promise<string> {
  const dir = await fixture('ext4-bench', `v1 ${FILES} ${BIG}`, async (out) => {
    await mkdir(join(out, 'src/dir'), { recursive: true });
    for (let i = 0; i < FILES; i++) await writeFile(join(out, 'src/dir', `file-${i}`), '');
    const fh = await open(join(out, 'src/big'), 'w');
    const chunk = Buffer.alloc(8 << 20);
    for (let i = 0; i < chunk.length; i += 4) chunk.writeUInt32LE(i * 2654435761 >>> 0, i);
    for (let off = 0; off < BIG; off += chunk.length) await fh.write(chunk, 0, chunk.length, off);
    await fh.close();
    await run('truncate', ['-s', '1300M', join(out, 'fs.img')]);
    await run('mkfs.ext4', ['-q', '-F', '-d', join(out, 'src'), join(out, 'fs.img')]);
    // Index the big directory as a kernel-grown one would be.
    await runStatus('e2fsck', ['-fyD', join(out, 'fs.img')]);
    await run('rm', ['-rf', join(out, 'src')]);
  });
  return join(dir, 'fs.img');
}
