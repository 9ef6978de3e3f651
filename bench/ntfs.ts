/**
 * NTFS read benchmark: a 1 GiB file read and a 10,000-entry listing (names + attributes)
 * through our driver and through ntfs-3g mounted read-only on the same image. Each is run
 * twice and the second (warm) run is reported, so both sides read from the host page cache.
 *
 *   node dist/bench/ntfs.js
 */
import { lstat, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { RawFile } from '../disk/raw.js';
import { ntfsDriver } from '../fs/ntfs/driver.js';
import { resolvePath } from '../fs/path.js';
import { fixture } from '../test/fixtures/cache.js';
import { run } from '../test/fixtures/run.js';
import { withNtfs3g } from '../test/fs/ntfs/images.js';

const FILE_MIB = 1024;
const ENTRIES = 10_000;
const CHUNK = 1 << 20;

const script = `set -e
head -c ${FILE_MIB}M /dev/urandom > big
mkdir many
cd many
for i in $(seq 1 ${ENTRIES}); do : > "entry-$i"; done`;

async function image(): Promise<string> {
  return fixture('ntfs-bench.img', `v1 ${script}`, async (path) => {
    await run('truncate', ['-s', `${FILE_MIB + 256}M`, path]);
    await run('mkntfs', ['-F', '-Q', '-q', '-c', '4096', path]);
    await withNtfs3g(path, 'rw', (mnt) => run('bash', ['-c', script], { cwd: mnt }));
  });
}

async function twice(fn: () => Promise<void>): Promise<number> {
  await fn();
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

function line(what: string, ours: number, ref: number, unit: string, amount: number): void {
  const a = amount / ours;
  const b = amount / ref;
  console.log(`${what.padEnd(28)} guestkit ${a.toFixed(1).padStart(9)} ${unit}   ntfs-3g ${b.toFixed(1).padStart(9)} ${unit}   ratio ${(a / b).toFixed(2)}x`);
}

const img = await image();
const dev = await RawFile.open(img);
const fs = await ntfsDriver.open(dev);
const big = await resolvePath(fs, '/big');
const many = await resolvePath(fs, '/many');

const oursRead = await twice(async () => {
  for (let off = 0; off < big.size; off += CHUNK) await fs.read(big.ino, off, CHUNK);
});
const oursList = await twice(async () => {
  const n = (await fs.readdir(many.ino)).length;
  if (n !== ENTRIES) throw new Error(`listed ${n} entries`);
});

/**
 * ntfs-3g twice: as mounted by default, where the second pass is served by the kernel's
 * FUSE page and attribute caches, and with those caches out of the way (the file's pages
 * dropped before each pass, attr/entry timeouts 0), so ntfs-3g itself does the work, on an
 * image the host has cached, as ours does.
 */
async function ntfs3g(opts: string, dropPages: boolean): Promise<[number, number]> {
  return withNtfs3g(img, opts, async (mnt) => {
    const file = join(mnt, 'big');
    const r = await twice(async () => {
      if (dropPages) await run('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none']);
      const fh = await open(file);
      const buf = Buffer.alloc(CHUNK);
      for (let off = 0; off < big.size; off += CHUNK) await fh.read(buf, 0, CHUNK, off);
      await fh.close();
    });
    const l = await twice(async () => {
      const dir = join(mnt, 'many');
      const names = await readdir(dir);
      for (let i = 0; i < names.length; i += 64) await Promise.all(names.slice(i, i + 64).map((n) => lstat(join(dir, n))));
      if (names.length !== ENTRIES) throw new Error(`ntfs-3g listed ${names.length} entries`);
    });
    return [r, l];
  });
}

const [cachedRead, cachedList] = await ntfs3g('ro', false);
const [ownRead, ownList] = await ntfs3g('ro,attr_timeout=0,entry_timeout=0', true);
const mb = (FILE_MIB * 1048576) / 1e6;
console.log('vs ntfs-3g with the kernel page/attribute cache (second pass served from it):');
line(`read ${FILE_MIB} MiB file (warm)`, oursRead, cachedRead, 'MB/s', mb);
line(`list ${ENTRIES} entries (warm)`, oursList, cachedList, 'ops/s', ENTRIES);
console.log('vs ntfs-3g doing the work (FUSE caches dropped, image in the host cache):');
line(`read ${FILE_MIB} MiB file (warm)`, oursRead, ownRead, 'MB/s', mb);
line(`list ${ENTRIES} entries (warm)`, oursList, ownList, 'ops/s', ENTRIES);
await dev.close();
