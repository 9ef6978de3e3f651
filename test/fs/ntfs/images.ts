/**
 * NTFS test images: made by mkntfs and populated through real ntfs-3g FUSE mounts, cached
 * by recipe. `withNtfs3g` mounts an image (ntfs-3g in the foreground, so unmounting waits
 * until it has written everything back).
 */
import { spawn } from 'node:child_process';
import { readFile, realpath, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { RawFile } from '../../../disk/raw.js';
import type { FsOpenOptions } from '../../../fs/filesystem.js';
import { unlocked } from '../../../fs/locked.js';
import { ntfsDriver } from '../../../fs/ntfs/driver.js';
import type { NtfsFilesystem } from '../../../fs/ntfs/ntfs.js';
import { fixture, scratch } from '../../fixtures/cache.js';
import { run, runStatus } from '../../fixtures/run.js';

/** A symlink (0xA000000C) or junction (0xA0000003) reparse buffer, as setfattr hex. */
export function reparseHex(kind: 'junction' | 'symlink', target: string, relative = false): string {
  const sub = Buffer.from(target, 'utf16le');
  const print = Buffer.from(target.replace(/^\\\?\?\\/, ''), 'utf16le');
  const head = Buffer.alloc(kind === 'symlink' ? 12 : 8);
  head.writeUInt16LE(0, 0);
  head.writeUInt16LE(sub.length, 2);
  head.writeUInt16LE(sub.length + 2, 4);
  head.writeUInt16LE(print.length, 6);
  if (kind === 'symlink') head.writeUInt32LE(relative ? 1 : 0, 8);
  const body = Buffer.concat([head, sub, Buffer.alloc(2), print, Buffer.alloc(2)]);
  const top = Buffer.alloc(8);
  top.writeUInt32LE(kind === 'symlink' ? 0xa000000c : 0xa0000003, 0);
  top.writeUInt16LE(body.length, 4);
  return `0x${Buffer.concat([top, body]).toString('hex')}`;
}

/** A reparse point of a tag no one here follows (WOF, 0x80000017) with 4 bytes of data. */
export const OTHER_TAG = '0x1700008004000000abcdef01';

async function mounted(mnt: string): Promise<boolean> {
  // mountinfo names the real path: .fixtures may be a symlink.
  const real = await realpath(mnt);
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  return info.split('\n').some((l) => l.split(' ')[4] === real);
}

/** Mount `img` with ntfs-3g (options `opts`), run `fn(mountpoint)`, unmount and wait. */
export async function withNtfs3g<T>(img: string, opts: string, fn: (mnt: string) => Promise<T>): Promise<T> {
  // The kernel lists the canonical path, and .fixtures may be a symlink (shared cache).
  const mnt = await realpath(await scratch('ntfs3g-mnt'));
  const child = spawn('ntfs-3g', [img, mnt, '-o', `${opts},no_detach`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  let done = false;
  void exited.then(() => (done = true));
  for (let i = 0; !(await mounted(mnt)); i++) {
    if (done || i > 200) {
      await stop();
      throw new Error(`ntfs-3g ${img} ${mnt} -o ${opts} did not mount: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  try {
    return await fn(mnt);
  } finally {
    if ((await runStatus('fusermount', ['-u', mnt])).code !== 0) await stop();
    await exited;
    await rm(mnt, { recursive: true, force: true });
  }

  /** Leave no ntfs-3g and no mount behind: it may have mounted just after the last look. */
  async function stop(): Promise<void> {
    child.kill('SIGKILL');
    await exited;
    await runStatus('fusermount', ['-u', '-z', mnt]);
    await rm(mnt, { recursive: true, force: true });
  }
}

export interface ImageSpec {
  clusterSize: number;
  /** Image size in MiB. */
  sizeMiB: number;
  /** Add a directory with this many files (deep index trees). */
  manyFiles?: number;
}

/** The common tree: every kind of file the driver must show like ntfs-3g does. */
function populateScript(spec: ImageSpec): string {
  const compress = spec.clusterSize <= 4096;
  return `set -e
mkdir -p dir/sub 'Ünïcødé ☃' jtarget/inner
echo hello > dir/sub/hello.txt
: > empty
yes abc | head -c 300 > r300
yes abcdefgh | head -c 700 > r700
yes 0123456789 | head -c 1000000 > 'Ünïcødé ☃/日本語.txt'
echo emoji > '😀 smile.txt'
echo Mixed > MixedCase.TXT
echo short > 'Long File Name.txt'
setfattr -n system.ntfs_dos_name -v 'LONGFI~1.TXT' 'Long File Name.txt'
ln dir/sub/hello.txt hardlink
ln dir/sub/hello.txt 'Ünïcødé ☃/hardlink2'
ln -s dir/sub/hello.txt rel-link
ln -s /abs/target abs-link
setfattr -n user.x -v hello r700
setfattr -n user.bin -v 0x00ff10 dir/sub/hello.txt
setfattr -n user.dirstream -v ondir dir
truncate -s 5G sparse5g
printf 'middle' | dd of=sparse5g bs=1 seek=3000000000 conv=notrunc status=none
printf 'tail' | dd of=sparse5g bs=1 seek=5368709116 conv=notrunc status=none
# A sparse file written in 700 separate pieces: 1,400 runs, more than one MFT record
# holds, so it gets an $ATTRIBUTE_LIST and extension records.
truncate -s 46M manyruns
for i in $(seq 0 699); do printf "piece $i" | dd of=manyruns bs=65536 seek=$i conv=notrunc status=none; done
for i in $(seq 1 150); do
  head -c 12288 /dev/urandom >> fragA
  yes "B$i" | head -c 8192 >> fragB
done
mkdir junction symlink-dir
setfattr -n system.ntfs_reparse_data -v ${reparseHex('junction', '\\??\\C:\\JTARGET\\Inner')} junction
touch wsym-abs wsym-rel wsym-missing
setfattr -n system.ntfs_reparse_data -v ${reparseHex('symlink', '\\??\\C:\\dir\\SUB\\hello.txt')} wsym-abs
setfattr -n system.ntfs_reparse_data -v ${reparseHex('symlink', 'dir\\sub', true)} wsym-rel
setfattr -n system.ntfs_reparse_data -v ${reparseHex('symlink', '\\??\\D:\\nowhere\\x')} wsym-missing
mkfifo a-fifo
mknod a-blockdev b 8 17
mknod a-chardev c 4 1
echo 'not followed' > other-tag
setfattr -n system.ntfs_reparse_data -v ${OTHER_TAG} other-tag
${compress ? `mkdir comp
setfattr -n system.ntfs_attrib_be -v 0x00000800 comp
yes 'compress me please' | head -c 300000 > comp/text
head -c 70000 /dev/urandom > comp/random
cat comp/text comp/random comp/text > comp/mixed
truncate -s 200000 comp/holey
printf 'end' >> comp/holey` : ''}
# Free space left only in 600 small holes, then one file across them: fragmented.
mkdir holes
for i in $(seq 1 1200); do head -c 4096 /dev/zero > holes/h$i; done
dd if=/dev/zero of=filler bs=1M status=none 2>/dev/null || true
for i in $(seq 1 2 1200); do rm holes/h$i; done
head -c 2000000 /dev/urandom > fragmented
rm filler
${spec.manyFiles ? `mkdir many
cd many
for i in $(seq 1 ${spec.manyFiles}); do : > "file-with-a-longer-name-$i"; done
cd ..` : ''}
`;
}

export function imageRecipe(spec: ImageSpec): string {
  return `v4 mkntfs -F -Q -c ${spec.clusterSize} -L guestkit ${spec.sizeMiB}M\n${populateScript(spec)}`;
}

/** The images the tests use: three cluster sizes, the 4 KiB one with a 10,000-entry directory. */
export const SPECS: Record<512 | 4096 | 65536, ImageSpec> = {
  512: { clusterSize: 512, sizeMiB: 96 },
  4096: { clusterSize: 4096, sizeMiB: 128, manyFiles: 10000 },
  65536: { clusterSize: 65536, sizeMiB: 256 },
};

/** Build (or reuse) a populated NTFS image. */
export function ntfsImage(spec: ImageSpec): Promise<string> {
  const name = `ntfs-c${spec.clusterSize}${spec.manyFiles ? `-many${spec.manyFiles}` : ''}.img`;
  return fixture(name, imageRecipe(spec), async (path) => {
    await run('truncate', ['-s', `${spec.sizeMiB}M`, path]);
    await run('mkntfs', ['-F', '-Q', '-q', '-c', String(spec.clusterSize), '-L', 'guestkit', path]);
    await withNtfs3g(path, 'streams_interface=xattr,compression', async (mnt) => {
      await run('bash', ['-c', populateScript(spec)], { cwd: mnt });
    });
  });
}

/** The largest cluster size NTFS has (2 MiB), with a few files. */
export function hugeClusterImage(): Promise<string> {
  const script = `set -e
mkdir -p x/y
echo hi > x/y/z
head -c 5000000 /dev/urandom > big
truncate -s 3G sparse
printf end >> sparse`;
  return fixture('ntfs-c2m.img', `v1 mkntfs -c 2M 1G\n${script}`, async (path) => {
    await run('truncate', ['-s', '1G', path]);
    await run('mkntfs', ['-F', '-Q', '-q', '-c', String(2 << 20), path]);
    await withNtfs3g(path, 'rw', (mnt) => run('bash', ['-c', script], { cwd: mnt }));
  });
}

/** A small image for corruption and write tests: mkntfs plus a few files. */
export function smallImage(clusterSize = 4096): Promise<string> {
  const script = `set -e
mkdir -p d/e
echo hi > d/e/f
yes abc | head -c 300000 > big
for i in $(seq 1 300); do : > "d/name-$i"; done
truncate -s 20M manyruns
for i in $(seq 0 299); do printf "p$i" | dd of=manyruns bs=65536 seek=$i conv=notrunc status=none; done`;
  const sizeMiB = clusterSize > 4096 ? 128 : 32;
  const name = clusterSize === 4096 ? 'ntfs-small.img' : `ntfs-small-c${clusterSize}.img`;
  return fixture(name, `v2 mkntfs -c ${clusterSize} ${sizeMiB}M\n${script}`, async (path) => {
    await run('truncate', ['-s', `${sizeMiB}M`, path]);
    await run('mkntfs', ['-F', '-Q', '-q', '-c', String(clusterSize), path]);
    await withNtfs3g(path, 'streams_interface=xattr', async (mnt) => {
      await run('bash', ['-c', script], { cwd: mnt });
    });
  });
}

/** A private copy of an image, for tests that change it. */
export async function copyImage(src: string, name: string): Promise<string> {
  const dir = await scratch(name);
  const dst = join(dir, 'copy.img');
  await run('cp', ['--sparse=always', src, dst]);
  return dst;
}

/** Open an NTFS image with the driver, unlocked: the tests look at the driver's internals. */
export async function openNtfs(path: string, opts: FsOpenOptions = {}): Promise<NtfsFilesystem> {
  return unlocked(await ntfsDriver.open(await RawFile.open(path, opts.writable === true), opts)) as NtfsFilesystem;
}
