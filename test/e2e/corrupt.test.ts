/**
 * Damage users meet: a GPT whose primary header is broken (the backup still describes the
 * partitions) and an ext4 whose superblock is gone. The tools warn or fail cleanly.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fixture } from '../fixtures/cache.js';
import { run } from '../fixtures/run.js';
import { place, toolStatus as tool } from './tools.js';


const RECIPE = `v1 e2e: gpt p1 ext4 8M ok, p2 ext4 8M magic zeroed; primary GPT header CRC smashed`;
const P1 = 2048 * 512;
const P2 = P1 + (8 << 20);

/** Overwrite bytes of `image` at `offset`. */
const poke = (image: string, offset: number, bytes: string) =>
  run('dd', [`of=${image}`, 'bs=1', `seek=${offset}`, 'conv=notrunc', 'status=none'], { input: bytes });

async function damaged(): Promise<string> {
  const dir = await fixture('e2e-corrupt', RECIPE, async (out) => {
    await mkdir(join(out, 'tree'), { recursive: true });
    await writeFile(join(out, 'tree', 'ok.txt'), 'fine\n');
    const image = join(out, 'disk.img');
    await run('truncate', ['-s', '20M', image]);
    await run('sfdisk', ['-q', image], { input: 'label: gpt\nstart=2048, size=16384\nstart=18432, size=16384\n' });
    const fs = join(out, 'fs.img');
    await run('truncate', ['-s', '8M', fs]);
    await run('mkfs.ext4', ['-q', '-L', 'good', '-E', 'root_owner=0:0', '-d', join(out, 'tree'), fs]);
    for (const at of [P1, P2]) {
      await place(fs, image, 0, at, 8 << 20);
    }
    await poke(image, P2 + 1024 + 0x38, '\0\0'); // ext4 s_magic
    await poke(image, 512 + 0x10, 'XXXX'); // primary GPT header CRC32
  });
  return join(dir, 'disk.img');
}

test('a GPT with a broken primary header warns on stderr and still lists its partitions', async () => {
  const image = await damaged();
  const r = await tool('virt-filesystems', ['-a', image, '--partitions']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^virt-filesystems: warning: .*GPT/im);
  assert.deepEqual(r.stdout.trim().split('\n'), ['/dev/sda1', '/dev/sda2']);
});

test('an ext4 with a destroyed superblock shows as unknown and virt-ls fails cleanly', async () => {
  const image = await damaged();
  const fs = await tool('virt-filesystems', ['-a', image, '--all', '--long']);
  assert.equal(fs.code, 0, fs.stderr);
  assert.match(fs.stdout, /^\/dev\/sda1 +filesystem +ext4 +good /m);
  assert.match(fs.stdout, /^\/dev\/sda2 +filesystem +unknown /m);
  const ls = await tool('virt-ls', ['-a', image, '-m', '/dev/sda2', '/']);
  assert.equal(ls.code, 1);
  assert.match(ls.stderr, /^virt-ls: .*\/dev\/sda2/m);
  assert.doesNotMatch(ls.stderr, /\n\s+at /, 'no stack trace');
  const ok = await tool('virt-ls', ['-a', image, '-m', '/dev/sda1', '/']);
  assert.deepEqual(ok.stdout.trim().split('\n').sort(), ['lost+found', 'ok.txt']);
});
