/**
 * ext2/3/4 fixture images made by mkfs.ext* -d from a populated directory, then changed with
 * debugfs -w (xattrs, ACLs, times past 2038). Cached by recipe.
 */
import { createHash } from 'node:crypto';
import { chmod, chown, link, mkdir, rm, symlink, truncate, writeFile, open } from 'node:fs/promises';
import { join } from 'node:path';
import { fixture } from '../../fixtures/cache.js';
import { run } from '../../fixtures/run.js';

/** Deterministic pseudo-random bytes (seeded), so fixtures and checks agree. */
export function pattern(seed: string, length: number): Buffer {
  const out = Buffer.alloc(length);
  let block = createHash('sha256').update(seed).digest();
  for (let off = 0; off < length; off += block.length) {
    block.copy(out, off, 0, Math.min(block.length, length - off));
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

/** A Linux-format POSIX ACL xattr: u::rw-, u:1000:rw-, g::r--, m::rw-, o::r--. */
export const ACL_XATTR = Buffer.from('02000000' + '01000600ffffffff' + '02000600e8030000' + '04000400ffffffff' + '10000600ffffffff' + '20000400ffffffff', 'hex');

export const SPARSE_SIZE = 20 << 20;
export const SPARSE_AT = [0, 5 << 20, (20 << 20) - 4096];

/** Build the source tree for `mkfs -d`. */
export async function populate(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'dir/nested'), { recursive: true });
  await writeFile(join(dir, 'hello.txt'), 'hello world\n');
  await writeFile(join(dir, 'empty'), '');
  await writeFile(join(dir, 'tiny.txt'), 'tiny inline file\n');
  await writeFile(join(dir, 'medium.txt'), pattern('medium', 100).toString('hex'));
  await writeFile(join(dir, 'dir/nested/deep.txt'), 'deep\n');
  await writeFile(join(dir, 'big.bin'), pattern('big', 3 * 1024 * 1024 + 123));
  const fh = await open(join(dir, 'sparse.bin'), 'w');
  for (const at of SPARSE_AT) await fh.write(pattern(`sparse${at}`, 4096), 0, 4096, at);
  await fh.truncate(SPARSE_SIZE);
  await fh.close();
  await symlink('hello.txt', join(dir, 'link'));
  await symlink('dir/nested/' + 'x'.repeat(90), join(dir, 'longlink'));
  await writeFile(join(dir, 'hard1'), 'linked\n');
  await link(join(dir, 'hard1'), join(dir, 'dir/hard2'));
  await run('mknod', [join(dir, 'chr'), 'c', '1', '3']);
  await run('mknod', [join(dir, 'blk'), 'b', '259', '1048575']);
  await run('mkfifo', [join(dir, 'fifo')]);
  await run('python3', ['-c', `import socket;socket.socket(socket.AF_UNIX).bind(${JSON.stringify(join(dir, 'sock'))})`]);
  await chown(join(dir, 'hello.txt'), 1000, 1000);
  await chown(join(dir, 'dir/nested/deep.txt'), 70000, 80000);
  await chmod(join(dir, 'dir/nested'), 0o750);
  await mkdir(join(dir, 'many'));
  for (let i = 0; i < 400; i++) await writeFile(join(dir, 'many', `entry-${i}-${'n'.repeat(i % 40)}`), `${i}\n`);
}

/** debugfs commands run on every image after mkfs. */
export function debugfsScript(dir: string): string {
  return [
    'ea_set /hello.txt user.foo bar',
    'ea_set /hello.txt security.selinux system_u:object_r:etc_t:s0',
    'ea_set /hello.txt trusted.t 12345',
    `ea_set -f ${join(dir, '..', 'acl.bin')} /dir system.posix_acl_access`,
    `ea_set -f ${join(dir, '..', 'acl.bin')} /dir system.posix_acl_default`,
    `ea_set -f ${join(dir, '..', 'bigx.bin')} /big.bin user.big`,
    'set_inode_field /hello.txt mtime 0x1ffffffff',
    'set_inode_field /hello.txt mtime_extra 0x121',
    'set_inode_field /tiny.txt atime 0x7fffffff',
    'set_inode_field /empty ctime 0x80000000',
  ].join('\n');
}

export interface Variant {
  name: string;
  mkfs: string[];
  size: string;
  /** Rebuild directory indexes after mkfs (e2fsck -fD) so large directories get an htree. */
  htree?: boolean;
  /** Directory hash for the index (tune2fs -E hash_alg=), before e2fsck -fD builds it. */
  hashAlg?: 'legacy' | 'half_md4' | 'tea';
  /** xattrs large enough to need an external block (not with 128-byte inodes… they still fit the block). */
  type: 'ext2' | 'ext3' | 'ext4';
}

export const VARIANTS: Variant[] = [
  { name: 'ext4-default', mkfs: ['mkfs.ext4'], size: '64M', type: 'ext4', htree: true },
  { name: 'ext2', mkfs: ['mkfs.ext2'], size: '48M', type: 'ext2', htree: true, hashAlg: 'tea' },
  { name: 'ext3', mkfs: ['mkfs.ext3'], size: '48M', type: 'ext3' },
  { name: 'ext4-inline', mkfs: ['mkfs.ext4', '-O', 'inline_data'], size: '64M', type: 'ext4' },
  { name: 'ext4-1k', mkfs: ['mkfs.ext4', '-b', '1024'], size: '64M', type: 'ext4', htree: true, hashAlg: 'legacy' },
  { name: 'ext4-i128', mkfs: ['mkfs.ext4', '-I', '128'], size: '64M', type: 'ext4' },
  { name: 'ext4-bigalloc', mkfs: ['mkfs.ext4', '-O', 'bigalloc', '-C', '16384'], size: '64M', type: 'ext4' },
  { name: 'ext4-i1024', mkfs: ['mkfs.ext4', '-I', '1024'], size: '64M', type: 'ext4' },
  // 75 groups of 1 KiB blocks: the descriptor table spans meta groups.
  { name: 'ext4-metabg', mkfs: ['mkfs.ext4', '-b', '1024', '-O', 'meta_bg,^resize_inode'], size: '600M', type: 'ext4' },
];

/** Build (or reuse) the image of one variant; also returns the source tree it was made from. */
export async function variantImage(v: Variant): Promise<{ image: string; src: string }> {
  const recipe = [populate.toString(), debugfsScript.toString(), JSON.stringify(v), ACL_XATTR.toString('hex'), 'v1'].join('\n');
  const dir = await fixture(`ext4-${v.name}`, recipe, async (out) => {
    await mkdir(out, { recursive: true });
    const src = join(out, 'src');
    await populate(src);
    await writeFile(join(out, 'acl.bin'), ACL_XATTR);
    await writeFile(join(out, 'bigx.bin'), pattern('bigx', 700));
    const image = join(out, 'fs.img');
    await truncate(image, 0).catch(() => undefined);
    await writeFile(image, '');
    await run('truncate', ['-s', v.size, image]);
    await run(v.mkfs[0]!, [...v.mkfs.slice(1), '-q', '-F', '-U', '6f1c6a53-3b0c-4a4e-9a2e-5d7c1b2a3e4f', '-L', `lbl-${v.name}`.slice(0, 16), '-E', 'hash_seed=' + '01234567-89ab-cdef-0123-456789abcdef', '-d', src, image]);
    await run('debugfs', ['-w', '-f', '-', image], { input: debugfsScript(src) });
    if (v.hashAlg) await run('tune2fs', ['-E', `hash_alg=${v.hashAlg}`, image]);
    if (v.htree) await e2fsck(['-fyD', image]);
  });
  return { image: join(dir, 'fs.img'), src: join(dir, 'src') };
}

/** e2fsck exits 1 when it changed something (as -D does); only 4 and up are failures. */
export async function e2fsck(args: string[]): Promise<string> {
  const { runStatus } = await import('../../fixtures/run.js');
  const r = await runStatus('e2fsck', args);
  if (r.code >= 4) throw new Error(`e2fsck ${args.join(' ')} failed (${r.code}): ${r.stdout}${r.stderr}`);
  return r.stdout;
}
