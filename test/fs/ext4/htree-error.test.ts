import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { BlockDevice } from '../../../disk/block-device.js';
import { ErrorFilter } from '../../../disk/filters/error.js';
import { FilterDevice } from '../../../disk/filters/filter-device.js';
import { RawFile } from '../../../disk/raw.js';
import { unlocked } from '../../../fs/locked.js';
import { ext4Driver } from '../../../fs/ext4/driver.js';
import type { Ext4Writer } from '../../../fs/ext4/ext4-writer.js';
import { fixture, scratch } from '../../fixtures/cache.js';
import { run } from '../../fixtures/run.js';
import { e2fsck } from './images.js';

/**
 * A directory of 4000 long names on 1 KiB blocks: its htree has one level of index nodes. No
 * journal, so the create writes its new inode in place before it walks the index (a journal
 * would keep it in memory until a commit): that write is where the test makes reads fail.
 */
async function deepIndexImage(): Promise<string> {
  const dir = await fixture('ext4-htree-levels1', deepIndexImage.toString(), async (out) => {
    await mkdir(join(out, 'src', 'big'), { recursive: true });
    for (let i = 0; i < 4000; i++) await writeFile(join(out, 'src', 'big', `f${String(i).padStart(5, '0')}-${'x'.repeat(50)}`), '');
    const image = join(out, 'fs.img');
    await run('truncate', ['-s', '32M', image]);
    await run('mkfs.ext4', ['-q', '-F', '-b', '1024', '-O', '^has_journal', '-d', join(out, 'src'), image]);
    await e2fsck(['-fyD', image]);
    await rm(join(out, 'src'), { recursive: true });
  });
  return join(dir, 'fs.img');
}

/** Runs `then` once, before the first write that reaches byte `at` of the device. */
class OnWriteAt extends FilterDevice {
  constructor(inner: BlockDevice, private readonly at: bigint, private then: (() => Promise<void>) | null) {
    super(inner);
  }

  protected override async _write(offset: bigint, data: Uint8Array): Promise<void> {
    const then = this.then;
    if (then && offset <= this.at && this.at < offset + BigInt(data.length)) {
      this.then = null;
      await then();
    }
    return this.inner.write(offset, data);
  }
}

test('ext4 write: a read error in the htree walk propagates; the directory keeps its index, not a byte of it changes', async () => {
  const dir = await scratch('ext4-htree-error');
  const image = join(dir, 'fs.img');
  await copyFile(await deepIndexImage(), image);
  const dump = await run('debugfs', ['-R', 'htree_dump /big', image]);
  assert.match(dump, /Indirect levels: 1/);
  // The root's entries come first, up to the first blank line: the index nodes' blocks.
  const nodes = [...dump.split('\n\n')[0]!.matchAll(/^Entry #\d+: Hash 0x[0-9a-f]+, block (\d+)$/gm)].map((m) => Number(m[1]));
  assert.ok(nodes.length > 1, 'the root points at index nodes');
  const firstPblk = Number((await run('debugfs', ['-R', 'bmap /big 0', image])).trim());
  const trigger = join(dir, 'fail-reads');
  const newIno = Number(/Free inode found: (\d+)/.exec(await run('debugfs', ['-R', 'ffi', image]))![1]);
  const where = /located at block (\d+), offset 0x([0-9a-f]+)/.exec(await run('debugfs', ['-R', `imap <${newIno}>`, image]))!;
  const newInodeAt = BigInt(where[1]!) * 1024n + BigInt(parseInt(where[2]!, 16));
  const raw = await RawFile.open(image, true);
  let fs: Ext4Writer | undefined;
  // Reads fail once the create has written its new inode (after its lookup), and the index
  // nodes are no longer in the block cache, as after eviction under memory pressure: the
  // walk that finds the leaf for the new name meets the read error.
  const dev = new ErrorFilter(new OnWriteAt(raw, newInodeAt, async () => {
    for (const lblk of nodes) fs!.fs.io.forget(firstPblk + lblk);
    await writeFile(trigger, '');
  }), { file: trigger, ops: ['read'] });
  fs = unlocked(await ext4Driver.open(dev, { writable: true, warn: () => undefined })) as Ext4Writer;
  const big = await fs.lookup(2, 'big');
  const dirBytes = async (): Promise<string> => createHash('sha256').update(await run('debugfs', ['-R', 'cat /big', image])).digest('hex');
  const before = await dirBytes();
  await assert.rejects(fs.create(big.ino, 'new-file', 0o644, 0, 0), /injected error \(EIO\) on read/);
  await rm(trigger);
  await raw.close();
  assert.equal(await dirBytes(), before, 'the directory was rewritten');
  assert.match(await run('debugfs', ['-R', 'stat /big', image]), /Flags: 0x81000/, 'the directory keeps its htree flag');
  assert.match(await run('debugfs', ['-R', 'htree_dump /big', image]), /Indirect levels: 1/);
});
