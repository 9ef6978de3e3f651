/** Small ext4 images for the command-line tests, made by mkfs.ext4 -d and debugfs. */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fixture } from '../fixtures/cache.js';
import { run } from '../fixtures/run.js';

export const ESC_NAME = 'red\x1b[31mname';

/**
 * An unpartitioned ext4 (no metadata_csum, so entries can be patched) whose names and label
 * hold control characters and a backslash; `/X` is a directory whose entry name is patched
 * to "/", and `/loop/inner`'s entry is patched to point back at `/loop`.
 */
export async function hostileExt4(): Promise<string> {
  const dir = await fixture('cli-hostile-ext4', hostileExt4.toString(), async (out) => {
    const tree = join(out, 'tree');
    for (const d of ['etc', 'X', 'loop/inner', 'sub']) await mkdir(join(tree, d), { recursive: true });
    await writeFile(join(tree, 'etc', 'fstab'), 'hi\n');
    await writeFile(join(tree, ESC_NAME), 'r\n');
    await writeFile(join(tree, 'back\\slash'), 'b\n');
    const image = join(out, 'disk.img');
    await run('truncate', ['-s', '8M', image]);
    await run('mkfs.ext4', ['-q', '-b', '1024', '-O', '^metadata_csum', '-L', 'L\x1bB', '-E', 'root_owner=0:0', '-d', tree, image]);
    const ino = async (p: string) => Number(/Inode: (\d+)/.exec(await run('debugfs', ['-R', `stat ${p}`, image]))![1]);
    const blockOf = async (p: string) => Number((await run('debugfs', ['-R', `bmap ${p} 0`, image])).trim());
    const img = await readFile(image);
    patchEntry(img, (await blockOf('/')) * 1024, 'X', (e) => img.write('/', e + 8, 'latin1'));
    const loop = await ino('/loop');
    patchEntry(img, (await blockOf('/loop')) * 1024, 'inner', (e) => img.writeUInt32LE(loop, e));
    await writeFile(image, img);
  });
  return join(dir, 'disk.img');
}

/** Find the entry called `name` in the linear directory block at `at` and patch it. */
function patchEntry(img: Buffer, at: number, name: string, patch: (entry: number) => void): void {
  for (let e = at; e < at + 1024; e += img.readUInt16LE(e + 4)) {
    if (img.toString('latin1', e + 8, e + 8 + img[e + 6]!) === name) return patch(e);
    if (img.readUInt16LE(e + 4) === 0) break;
  }
  throw new Error(`no entry ${name} at ${at}`);
}

/** An ext4 (metadata_csum) whose journal holds a committed transaction rewriting a.txt. */
export async function dirtyJournalExt4(): Promise<string> {
  const dir = await fixture('cli-dirty-journal', dirtyJournalExt4.toString(), async (out) => {
    await mkdir(join(out, 'src'), { recursive: true });
    await writeFile(join(out, 'src', 'a.txt'), 'original\n');
    const image = join(out, 'disk.img');
    await run('truncate', ['-s', '8M', image]);
    await run('mkfs.ext4', ['-q', '-b', '1024', '-E', 'root_owner=0:0', '-d', join(out, 'src'), image]);
    const blk = Number((await run('debugfs', ['-R', 'bmap /a.txt 0', image])).trim());
    await writeFile(join(out, 'new'), Buffer.concat([Buffer.from('journaled\n'), Buffer.alloc(1014)]));
    await run('debugfs', ['-w', '-f', '-', image], { input: ['jo -c', `jw -b ${blk} ${join(out, 'new')}`, 'jc'].join('\n') });
  });
  return join(dir, 'disk.img');
}
