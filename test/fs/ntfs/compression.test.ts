import assert from 'node:assert/strict';
import { open } from 'node:fs/promises';
import { test } from 'node:test';
import { AT } from '../../../fs/ntfs/attribute.js';
import { readFile, resolvePath } from '../../../fs/path.js';
import { fixture } from '../../fixtures/cache.js';
import { run, runStatus } from '../../fixtures/run.js';
import { copyImage, openNtfs, withNtfs3g } from './images.js';

const CONTENT = 'seq 1 400000 | head -c 2000000';

/** A 2 MB file compressed by ntfs-3g on 4 KiB clusters (compression unit 2^4 clusters). */
function compressedImage(): Promise<string> {
  const script = `set -e
mkdir comp
setfattr -n system.ntfs_attrib_be -v 0x00000800 comp
${CONTENT} > comp/two`;
  return fixture('ntfs-compressed-2m.img', `v1 mkntfs -c 4096 32M\n${script}`, async (path) => {
    await run('truncate', ['-s', '32M', path]);
    await run('mkntfs', ['-F', '-Q', '-q', '-c', '4096', path]);
    await withNtfs3g(path, 'compression', (mnt) => run('bash', ['-c', script], { cwd: mnt }));
  });
}

/** Byte position of the $DATA attribute's compression unit field, and the record number. */
async function unitField(path: string): Promise<{ num: number; at: number }> {
  const fs = await openNtfs(path);
  const num = (await resolvePath(fs, '/comp/two', false)).ino;
  const record = fs.mft.dataStream.deviceOffset(num * fs.mft.recordSize)!;
  const attr = (await fs.mft.file(num)).all(AT.DATA)[0]!.offset;
  await fs.dev.close();
  return { num, at: Number(record) + attr + 34 };
}

test('ntfs: a file compressed by ntfs-3g reads as ntfscat gives it (unit 2^4 clusters of 4 KiB)', async () => {
  const image = await compressedImage();
  assert.match(await run('ntfsinfo', ['-F', '/comp/two', image]), /Compression unit:\s+4 /);
  const expected = Buffer.from(await run('bash', ['-c', CONTENT]));
  const fs = await openNtfs(image);
  assert.ok((await readFile(fs, '/comp/two')).equals(expected));
  await fs.dev.close();
});

for (const shift of [0, 13, 16]) {
  test(`ntfs: compression unit 2^${shift} clusters (not what Windows writes) is refused with EIO naming the record, as ntfscat refuses it`, async () => {
    const image = await copyImage(await compressedImage(), `ntfs-cu${shift}`);
    const { num, at } = await unitField(image);
    const fh = await open(image, 'r+');
    const field = Buffer.alloc(2);
    await fh.read(field, 0, 2, at);
    assert.equal(field.readUInt16LE(0), 4);
    field.writeUInt16LE(shift);
    await fh.write(field, 0, 2, at);
    await fh.close();
    const ref = await runStatus('ntfscat', [image, '/comp/two']);
    const expected = Buffer.from(await run('bash', ['-c', CONTENT]));
    assert.ok(ref.code !== 0 || ref.stdout !== expected.toString(), 'ntfscat does not give the file back');
    const fs = await openNtfs(image);
    await assert.rejects(readFile(fs, '/comp/two'), new RegExp(`^FsError: EIO: .*MFT record ${num}\\b.*compression unit`));
    await fs.dev.close();
  });
}
