/**
 * Each driver's `identify` (what virt-filesystems lists, read without a full open) agrees
 * with blkid on images made by the real mkfs tools, and with what the opened filesystem says.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { RawFile } from '../../disk/raw.js';
import { drivers, probeFilesystem } from '../../fs/drivers.js';
import { fixture } from '../fixtures/cache.js';
import { run } from '../fixtures/run.js';

const MKFS: Record<string, string[][]> = {
  ext2: [['mkfs.ext2', '-q', '-F', '-L', 'old-two', 'IMG']],
  ext4: [['mkfs.ext4', '-q', '-F', '-L', 'root-fs', 'IMG']],
  vfat: [['mkfs.vfat', '-F', '32', '-n', 'EFI', 'IMG']],
  ntfs: [['mkntfs', '-q', '-F', '-f', '-L', 'Data Vol', 'IMG']],
};

const images = await fixture('fs-identify', `v1 ${JSON.stringify(MKFS)}`, async (dir) => {
  await run('mkdir', ['-p', dir]);
  for (const [name, cmds] of Object.entries(MKFS)) {
    const img = join(dir, `${name}.img`);
    await run('truncate', ['-s', '40M', img]);
    for (const [cmd, ...args] of cmds) await run(cmd!, args.map((a) => (a === 'IMG' ? img : a)));
  }
});

for (const name of Object.keys(MKFS)) {
  test(`identify ${name}: type, label and UUID as blkid reads them, size as the opened filesystem's`, async () => {
    const path = join(images, `${name}.img`);
    const blkid = Object.fromEntries(
      // `-o export` escapes shell characters with a backslash ("Data\ Vol").
      (await run('blkid', ['-o', 'export', '-p', path])).trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).replace(/\\(.)/g, '$1')]),
    );
    const dev = await RawFile.open(path);
    try {
      const driver = await probeFilesystem(dev);
      assert.ok(driver && drivers.includes(driver), `${name} probes`);
      const id = await driver.identify(dev);
      assert.equal(id.type, blkid['TYPE']);
      assert.equal(id.label, blkid['LABEL']);
      assert.equal(id.uuid.toLowerCase(), blkid['UUID']!.toLowerCase());
      const fs = await driver.open(dev);
      const st = await fs.statfs();
      assert.deepEqual(id, { type: fs.type, label: fs.label(), uuid: fs.uuid(), size: BigInt(st.blocks) * BigInt(st.blockSize) });
      await fs.close();
    } finally {
      await dev.close();
    }
  });
}
