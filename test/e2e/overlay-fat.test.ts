/**
 * A qcow2 overlay over a raw base: the GPT comes from the base, the FAT32 ESP from the
 * overlay (written with qemu-io). The tools follow the backing file only when told the format.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fixture } from '../fixtures/cache.js';
import { run } from '../fixtures/run.js';
import { place, toolStatus as tool } from './tools.js';


const RECIPE = `v1 e2e: raw base gpt ESP fat32 40M "base"; qcow2 overlay, qemu-io write -s fat32 "overlay"`;
const START = 2048 * 512;
const SIZE = 40 << 20;
const MTOOLS = { env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } };

async function fat(out: string, name: string, text: string): Promise<string> {
  const img = join(out, `${name}.fat`);
  await run('truncate', ['-s', String(SIZE), img]);
  await run('mkfs.vfat', ['-F', '32', '-n', 'ESP', img]);
  await run('mmd', ['-i', img, '::/EFI'], MTOOLS);
  await writeFile(join(out, 'hello.txt'), text);
  await run('mcopy', ['-i', img, join(out, 'hello.txt'), '::/EFI/hello.txt'], MTOOLS);
  return img;
}

async function chain(): Promise<string> {
  return fixture('e2e-overlay-fat', RECIPE, async (out) => {
    await mkdir(out);
    const base = join(out, 'base.img');
    await run('truncate', ['-s', '48M', base]);
    await run('sfdisk', ['-q', base], { input: `label: gpt\nstart=2048, size=${SIZE / 512}, type=U\n` });
    await place(await fat(out, 'base', 'from the base\n'), base, 0, START, SIZE);
    const top = join(out, 'top.qcow2');
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', 'base.img', '-F', 'raw', top]);
    const newer = await fat(out, 'top', 'from the overlay\n');
    await run('qemu-io', ['-f', 'qcow2', '-c', `write -s ${newer} ${START} ${SIZE}`, top]);
  });
}

test('a probed qcow2 overlay is refused with EPERM naming --format', async () => {
  const top = join(await chain(), 'top.qcow2');
  for (const [name, args] of [['virt-filesystems', ['-a', top]], ['virt-ls', ['-a', top, '-m', '/dev/sda1', '/']]] as const) {
    const r = await tool(name, [...args]);
    assert.equal(r.code, 1, name);
    assert.match(r.stderr, /format was only probed: backing files are opened only when the format \(qcow2\) is given; use --format=qcow2\n/, name);
    assert.doesNotMatch(r.stderr, /\n\s+at /, `${name}: no stack trace`);
  }
});

test('with --format=qcow2 the tools read the ESP the overlay holds over the base GPT', async () => {
  const top = join(await chain(), 'top.qcow2');
  const fs = await tool('virt-filesystems', ['--format=qcow2', '-a', top, '--long']);
  assert.match(fs.stdout, /^\/dev\/sda1 +filesystem +vfat +ESP /m);
  const ls = await tool('virt-ls', ['--format=qcow2', '-a', top, '-m', '/dev/sda1', '-R', '/']);
  assert.deepEqual(ls.stdout.trim().split('\n'), ['/EFI', '/EFI/hello.txt']);
  const cat = await tool('virt-cat', ['--format=qcow2', '-a', top, '-m', '/dev/sda1', '/efi/HELLO.TXT']);
  assert.equal(cat.stdout, 'from the overlay\n');
});
