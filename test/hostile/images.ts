/**
 * Hostile guests made by the real tools: an ext4 (mkfs.ext4 -d) whose symlinks aim out of the
 * image (absolute and `../` targets, a directory link to /etc), with a directory hard-linked
 * into itself (debugfs ln), a directory claiming 2^40 bytes of entries (a billion and more)
 * and a file claiming 2^63 bytes (debugfs set_inode_field).
 */
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fixture } from '../fixtures/cache.js';
import { run } from '../fixtures/run.js';

export const GUEST_SHADOW = 'guest-shadow: not the host file\n';

/** Symlink name → target, as stored in the guest. */
export const LINKS: Record<string, string> = {
  abs: '/etc/shadow',
  'data/rel': '../../../../../../etc/shadow',
  esc: '/etc',
  'data/up': '../../../..',
};

export async function hostileGuest(): Promise<string> {
  const dir = await fixture('hostile-guest', `v1 ${JSON.stringify(LINKS)} ${GUEST_SHADOW} ${hostileGuest.toString()}`, async (out) => {
    const tree = join(out, 'tree');
    for (const d of ['etc', 'data', 'loopdir/inner', 'big']) await mkdir(join(tree, d), { recursive: true });
    await writeFile(join(tree, 'etc', 'shadow'), GUEST_SHADOW);
    await writeFile(join(tree, 'data', 'f'), 'hello\n');
    await writeFile(join(tree, 'hugefile'), 'x');
    for (let i = 0; i < 5; i++) await writeFile(join(tree, 'big', `f${i}`), `${i}\n`);
    for (const [name, target] of Object.entries(LINKS)) await symlink(target, join(tree, name));
    const image = join(out, 'disk.img');
    await run('truncate', ['-s', '16M', image]);
    await run('mkfs.ext4', ['-q', '-E', 'root_owner=0:0', '-d', tree, image]);
    await run('debugfs', ['-w', '-f', '-', image], {
      input: ['ln /loopdir /loopdir/inner/back', 'set_inode_field /hugefile size 0x8000000000000000', 'set_inode_field /big size 0x10000000000', ''].join('\n'),
    });
  });
  return join(dir, 'disk.img');
}
