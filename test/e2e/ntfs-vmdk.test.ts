/**
 * A Windows-style data disk: NTFS (mkntfs, populated through ntfs-3g) on a GPT partition,
 * shipped as a streamOptimized VMDK, read through virt-ls and virt-cat.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fixture } from '../fixtures/cache.js';
import { run } from '../fixtures/run.js';
import { place, tool } from './tools.js';


const RECIPE = `v1 e2e: gpt p1 ntfs 24M (mkntfs -Q, ntfs-3g: Users/Alice/Documents/{résumé 日本.txt,notes.txt}); vmdk streamOptimized`;
const UNICODE = 'résumé 日本.txt';

async function disk(): Promise<string> {
  const dir = await fixture('e2e-ntfs-vmdk', RECIPE, async (out) => {
    await mkdir(out);
    const fs = join(out, 'ntfs.img');
    await run('truncate', ['-s', '24M', fs]);
    await run('mkntfs', ['-q', '-Q', '-F', '-L', 'Data', fs]);
    const mnt = await mkdtemp(join(tmpdir(), 'e2e-ntfs-'));
    await run('ntfs-3g', [fs, mnt]);
    try {
      const docs = join(mnt, 'Users', 'Alice', 'Documents');
      await mkdir(docs, { recursive: true });
      await writeFile(join(docs, UNICODE), 'unicode name\n');
      await writeFile(join(docs, 'notes.txt'), 'case-insensitive\n');
    } finally {
      await run('umount', [mnt]);
      await rm(mnt, { recursive: true });
    }
    const image = join(out, 'disk.img');
    await run('truncate', ['-s', '32M', image]);
    await run('sfdisk', ['-q', image], { input: 'label: gpt\nstart=2048, size=49152, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7\n' });
    await place(fs, image, 0, 2048 * 512, 24 << 20);
    await run('qemu-img', ['convert', '-O', 'vmdk', '-o', 'subformat=streamOptimized', image, join(out, 'disk.vmdk')]);
  });
  return join(dir, 'disk.vmdk');
}

test('virt-ls -R through a streamOptimized VMDK lists the NTFS tree with its Unicode name', async () => {
  const vmdk = await disk();
  const out = await tool('virt-ls', ['-a', vmdk, '-m', '/dev/sda1', '-R', '/Users']);
  assert.deepEqual(out.trim().split('\n').sort(), [
    '/Users/Alice', '/Users/Alice/Documents', `/Users/Alice/Documents/${UNICODE}`, '/Users/Alice/Documents/notes.txt',
  ].sort());
});

test('virt-cat through the VMDK finds NTFS files by Unicode and case-insensitive paths', async () => {
  const vmdk = await disk();
  assert.equal(await tool('virt-cat', ['-a', vmdk, '-m', '/dev/sda1', `/Users/Alice/Documents/${UNICODE}`]), 'unicode name\n');
  assert.equal(await tool('virt-cat', ['-a', vmdk, '-m', '/dev/sda1', '/USERS/alice/DOCUMENTS/Notes.TXT']), 'case-insensitive\n');
});
