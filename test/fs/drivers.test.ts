import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ErrorFilter } from '../../disk/filters/error.js';
import { RawFile } from '../../disk/raw.js';
import { drivers, probeFilesystem } from '../../fs/drivers.js';
import { fatDriver } from '../../fs/fat/driver.js';
import { scratch } from '../fixtures/cache.js';
import { run } from '../fixtures/run.js';

/** A FAT image, and reads of it that fail with EIO while `trigger` exists. */
async function failingFat(): Promise<{ dev: ErrorFilter; raw: RawFile; trigger: string }> {
  const dir = await scratch('probe-eio');
  const image = join(dir, 'fat.img');
  await run('mkfs.vfat', ['-C', image, '4096']);
  const trigger = join(dir, 'fail');
  const raw = await RawFile.open(image);
  return { dev: new ErrorFilter(raw, { file: trigger, ops: ['read'] }), raw, trigger };
}

test('probeFilesystem: an I/O error is an I/O error, not "no filesystem"', async () => {
  const { dev, raw, trigger } = await failingFat();
  assert.equal(await probeFilesystem(dev), fatDriver, 'readable, it is FAT');
  await writeFile(trigger, '');
  await assert.rejects(probeFilesystem(dev), /injected error \(EIO\) on read/);
  // Each driver's probe propagates it too (the FAT probe reads the boot sector itself).
  for (const d of drivers) await assert.rejects(d.probe(dev), /injected error \(EIO\) on read/, d.type);
  await raw.close();
});
