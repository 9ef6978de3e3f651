import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { RawFile } from '../../disk/raw.js';
import { drivers } from '../../fs/drivers.js';
import { readFile, resolvePath } from '../../fs/path.js';
import { fixture } from '../fixtures/cache.js';
import { run } from '../fixtures/run.js';

/** An ext4 image (mkfs.ext4 -d) whose symlinks lead up, down and across the tree. */
async function image(): Promise<string> {
  return fixture('path-links.img', 'v1 c a/c a/x b abs rel loop', async (out) => {
    const tree = `${out}.tree`;
    await mkdir(join(tree, 'a', 'x'), { recursive: true });
    await mkdir(join(tree, 'b'), { recursive: true });
    await writeFile(join(tree, 'c'), 'top');
    await writeFile(join(tree, 'a', 'c'), 'inside a');
    await writeFile(join(tree, 'b', 'f'), 'in b');
    await symlink('/b', join(tree, 'a', 'x', 'abs'));
    await symlink('../../b', join(tree, 'a', 'x', 'rel'));
    await symlink('loop', join(tree, 'loop'));
    await run('truncate', ['-s', '8M', out]);
    await run('mkfs.ext4', ['-q', '-d', tree, out]);
    await run('rm', ['-rf', tree]);
  });
}

test('resolvePath: ".." after a symlink climbs from where the link led', async () => {
  const dev = await RawFile.open(await image());
  const fs = await drivers.find((d) => d.type === 'ext4')!.open(dev);
  try {
    assert.equal((await readFile(fs, '/a/x/abs/../c')).toString(), 'top');
    assert.equal((await readFile(fs, '/a/x/rel/../c')).toString(), 'top');
    assert.equal((await readFile(fs, '/a/x/abs/f')).toString(), 'in b');
    assert.equal((await readFile(fs, '/a/x/../c')).toString(), 'inside a');
    await assert.rejects(resolvePath(fs, '/loop'), { code: 'ELOOP' });
    const link = await resolvePath(fs, '/a/x/abs', false);
    assert.equal(link.mode & 0o170000, 0o120000);
  } finally {
    await fs.close();
    await dev.close();
  }
});
