/**
 * virt-ls streams its listing with bounded memory, as find does: a tree of 80,000 files is
 * listed exactly as find lists it, and -lR completes with the JavaScript heap capped at 24 MB.
 * Before, every line stayed in memory until the end: that run needed about 40 MB of heap and
 * died at the cap (the caches of the ext4 driver are bounded and need about 14 MB).
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { BIN } from '../e2e/tools.js';
import { fixture, scratch } from '../fixtures/cache.js';
import { run } from '../fixtures/run.js';

const DIRS = 160;
const FILES = 500;
const HEAP_MB = 24;
/** Max RSS allowed: generous, as the driver's 32 MiB block cache and Node itself count too. */
const RSS_CAP_KB = 200 * 1024;

async function bigTree(): Promise<{ image: string; find: string }> {
  const dir = await fixture('cli-ls-80k', `v1 ${DIRS} dirs x ${FILES} empty files, mkfs.ext4 -N 90000 -d; find | LC_ALL=C sort`, async (out) => {
    const tree = join(out, 'tree');
    for (let d = 0; d < DIRS; d++) {
      const sub = join(tree, `d${String(d).padStart(3, '0')}`);
      await mkdir(sub, { recursive: true });
      await Promise.all(Array.from({ length: FILES }, (_, f) => writeFile(join(sub, `file-${String(f).padStart(4, '0')}.txt`), '')));
    }
    const image = join(out, 'disk.img');
    await run('truncate', ['-s', '160M', image]);
    await run('mkfs.ext4', ['-q', '-N', '90000', '-E', 'root_owner=0:0', '-d', tree, image]);
    const found = await run('sh', ['-c', 'cd "$1" && find . -mindepth 1 | cut -c2- | LC_ALL=C sort', 'sh', tree]);
    await writeFile(join(out, 'find.txt'), found);
    await rm(tree, { recursive: true });
  });
  return { image: join(dir, 'disk.img'), find: join(dir, 'find.txt') };
}

/** Run virt-ls under python's getrusage: its exit status and max RSS (KiB); stdout goes to `out`. */
async function measured(args: string[], out: string): Promise<{ status: number; maxRssKb: number }> {
  const script = 'import resource,subprocess,sys\nwith open(sys.argv[1],"wb") as o: r=subprocess.run(sys.argv[2:],stdout=o)\nprint(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)';
  const [status, rss] = (await run('python3', ['-c', script, out, process.execPath, ...args])).trim().split(' ').map(Number);
  return { status: status!, maxRssKb: rss! };
}

test('virt-ls -R of 80,000 files streams: output equals find, heap and RSS stay bounded', async () => {
  const { image, find } = await bigTree();
  const dir = await scratch('cli-ls-stream');
  try {
    const listing = join(dir, 'R.txt');
    const r = await measured([`--max-old-space-size=${HEAP_MB}`, join(BIN, 'virt-ls.js'), '-a', image, '-R', '/'], listing);
    assert.equal(r.status, 0);
    const ours = await readFile(listing, 'utf8');
    assert.equal(ours.split('\n').length - 1, DIRS * (FILES + 1) + 1, 'every file, every directory and lost+found');
    // Depth first in byte order is find's output sorted, plus the lost+found mkfs adds (last in that order).
    assert.equal(ours, `${await readFile(find, 'utf8')}/lost+found\n`);
    assert.ok(r.maxRssKb < RSS_CAP_KB, `max RSS ${r.maxRssKb} KiB`);
    const long = await measured([`--max-old-space-size=${HEAP_MB}`, join(BIN, 'virt-ls.js'), '-a', image, '-lR', '/'], join(dir, 'lR.txt'));
    assert.equal(long.status, 0, 'virt-ls -lR ran out of its capped heap');
    assert.ok(long.maxRssKb < RSS_CAP_KB, `max RSS ${long.maxRssKb} KiB`);
    const lines = (await readFile(join(dir, 'lR.txt'), 'utf8')).split('\n');
    assert.equal(lines.length - 1, DIRS * (FILES + 1) + 1);
    assert.equal(lines[1], '- 0644          0 /d000/file-0000.txt');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
