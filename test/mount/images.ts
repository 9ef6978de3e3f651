/** Images for the mount tests, made by the real tools and cached by recipe. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fixture } from '../fixtures/cache.js';
import { run } from '../fixtures/run.js';
import { pattern } from '../fs/ext4/images.js';

/** 1 MiB of seeded bytes that every image holds as big.bin. */
export const BIG = pattern('mount-big', 1 << 20);

async function tree(dir: string): Promise<void> {
  await mkdir(join(dir, 'dir/nested'), { recursive: true });
  await writeFile(join(dir, 'hello.txt'), 'hello world\n');
  await writeFile(join(dir, 'dir/nested/deep.txt'), 'deep\n');
  await writeFile(join(dir, 'big.bin'), BIG);
  for (let i = 0; i < 50; i++) await writeFile(join(dir, 'dir', `f${i}.txt`), `${i}\n`);
}

export function ext4Image(): Promise<string> {
  return fixture('mount-ext4.img', `v1 ${tree.toString()}`, async (path) => {
    await tree(`${path}.src`);
    await run('mkfs.ext4', ['-q', '-F', '-E', 'root_owner=0:0', '-d', `${path}.src`, path, '64M']);
    await run('rm', ['-rf', `${path}.src`]);
  });
}

export function fatImage(): Promise<string> {
  return fixture('mount-fat.img', `v1 ${tree.toString()}`, async (path) => {
    await tree(`${path}.src`);
    await run('mkfs.vfat', ['-C', '-F', '32', '-i', '1234ABCD', path, String(64 * 1024)]);
    await run('mcopy', ['-s', '-m', '-i', path, join(`${path}.src`, 'hello.txt'), join(`${path}.src`, 'dir'), join(`${path}.src`, 'big.bin'), '::/'], { env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
    await run('rm', ['-rf', `${path}.src`]);
  });
}

export function ntfsImage(): Promise<string> {
  return fixture('mount-ntfs.img', `v1 ${tree.toString()}`, async (path) => {
    await tree(`${path}.src`);
    await run('truncate', ['-s', '64M', path]);
    await run('mkntfs', ['-F', '-Q', '-q', path]);
    const mnt = `${path}.mnt`;
    await mkdir(mnt);
    await run('ntfs-3g', [path, mnt]);
    try {
      await run('cp', ['-r', `${path}.src/.`, mnt]);
    } finally {
      await run('fusermount', ['-u', mnt]);
    }
    await run('rm', ['-rf', `${path}.src`, mnt]);
  });
}

/** An image converted by qemu-img (qcow2, or a streamOptimized VMDK). */
export function converted(src: string, name: string, args: string[]): Promise<string> {
  return fixture(name, `v1 ${src} ${args.join(' ')}`, (path) => run('qemu-img', ['convert', ...args, src, path]).then(() => undefined));
}

/**
 * An ext4 whose journal holds a committed transaction never checkpointed (debugfs jo/jw/jc):
 * hello.txt's block rewritten to "journaled!\n". A reader must replay it; a read-only one in memory.
 */
export function dirtyJournalImage(): Promise<string> {
  return fixture('mount-ext4-dirty.img', `v1 ${tree.toString()}`, async (path) => {
    await tree(`${path}.src`);
    await run('mkfs.ext4', ['-q', '-F', '-b', '4096', '-d', `${path}.src`, path, '32M']);
    const blk = (await run('debugfs', ['-R', 'bmap /hello.txt 0', path])).trim();
    await writeFile(`${path}.blk`, Buffer.concat([Buffer.from('journaled!\n'), Buffer.alloc(4096 - 11)]));
    await run('debugfs', ['-w', '-f', '-', path], { input: ['jo -c', `jw -b ${blk} ${path}.blk`, 'jc'].join('\n') });
    await run('rm', ['-rf', `${path}.src`, `${path}.blk`]);
  });
}
