/** `-i ova`: a tar read in place or an unpacked directory, its manifest checked, its OVF read. */
import assert from 'node:assert/strict';
import { copyFile, cp, mkdir, readdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { openInput } from '../../../v2v/input/open.js';
import { printSource } from '../../../v2v/input/print.js';
import { scratch } from '../../fixtures/cache.js';
import { flip } from '../../fixtures/patch.js';
import { hashDevice, qemuRawHash, run } from '../../fixtures/run.js';
import { OVF, ova, ovaDir } from './ova-images.js';

const warn = (m: string) => assert.fail(`unexpected warning: ${m}`);

test('ova: a ustar OVA is read in place: hardware from the OVF, disks by controller and address, streamOptimized disks read as qemu reads them', async () => {
  const file = await ova();
  const source = await openInput('ova', [file], { warn });
  try {
    assert.equal(source.name, 'deb12');
    assert.equal(source.memory, 2048n << 20n);
    assert.equal(source.vcpus, 2);
    assert.equal(source.firmware, 'uefi');
    assert.deepEqual(
      source.disks.map((d) => [d.name, d.bus]),
      [
        [`${file} (deb-disk1.vmdk)`, 'scsi'],
        [`${file} (deb-disk2.vmdk)`, 'scsi'],
      ],
    );
    assert.deepEqual(source.cdroms, [{ bus: 'sata' }]);
    assert.deepEqual(source.nics, [{ network: 'VM Network', vnetType: 'network', model: 'vmxnet3' }]);
    const expected = await qemuRawHash(join(await ovaDir(), 'deb-disk1.vmdk'));
    for (const disk of source.disks) {
      const dev = await disk.open();
      try {
        assert.equal(await hashDevice(dev), expected);
      } finally {
        await dev.close();
      }
    }
    assert.match(printSource(source), /^\t0 \[scsi\] .*\(deb-disk1\.vmdk\)$/m);
  } finally {
    await source.close();
  }
});

test('ova: an unpacked directory, and GNU and pax tars, give the same guest', async () => {
  const dir = await ovaDir();
  const plain = await openInput('ova', [await ova()], { warn });
  for (const path of [dir, await ova('gnu'), await ova('pax')]) {
    const source = await openInput('ova', [path], { warn });
    try {
      const { disks, close, ...rest } = source;
      const { disks: d0, close: c0, ...want } = plain;
      assert.deepEqual(rest, want);
      assert.equal(disks.length, 2);
      const dev = await disks[1]!.open();
      assert.equal(await hashDevice(dev), await qemuRawHash(join(dir, 'deb-disk2.vmdk')));
      await dev.close();
    } finally {
      await source.close();
    }
  }
  assert.equal((await openInput('ova', [dir], { warn })).disks[0]!.name, join(dir, 'deb-disk1.vmdk'));
  await plain.close();
});

test('ova: long member names (GNU and pax) are indexed as tar lists them', async () => {
  const dir = await scratch('v2v-ova-long');
  const deep = `${'sub-directory-'.repeat(6)}/${'a-long-disk-name-'.repeat(8)}.vmdk`;
  await run('mkdir', ['-p', join(dir, 'src', deep, '..')]);
  await writeFile(join(dir, 'src', deep), 'x'.repeat(1000));
  await writeFile(join(dir, 'src', 'big.bin'), '');
  await truncate(join(dir, 'src', 'big.bin'), 3 * 512 + 7);
  const { readTarIndex } = await import('../../../v2v/input/tar-index.js');
  const { RawFile } = await import('../../../disk/raw.js');
  for (const format of ['gnu', 'pax']) {
    const tar = join(dir, `${format}.tar`);
    await run('tar', [`--format=${format}`, '-cf', tar, '-C', join(dir, 'src'), deep, 'big.bin']);
    const listed = (await run('tar', ['--list', '-vf', tar, '--numeric-owner'])).trim().split('\n').map((l) => l.split(/\s+/));
    const dev = await RawFile.open(tar);
    const index = await readTarIndex(dev, tar);
    await dev.close();
    assert.deepEqual(
      index.map((e) => [e.name, String(e.size)]),
      listed.map((f) => [f.slice(5).join(' '), f[2]!]),
    );
    const bytes = await readFile(tar);
    assert.equal(bytes.toString('latin1', Number(index[0]!.offset), Number(index[0]!.offset) + 1000), 'x'.repeat(1000));
  }
});

/** A copy of the ustar OVA to damage. */
async function damaged(name: string): Promise<string> {
  const path = join(await scratch(name), 'deb12.ova');
  await copyFile(await ova(), path);
  return path;
}

test('ova: a truncated tar, a bad header checksum and a cut gzip stream are refused naming the file and offset', async () => {
  const cut = await damaged('v2v-ova-truncated');
  const size = (await readFile(cut)).length;
  await truncate(cut, size - 20_000);
  await assert.rejects(openInput('ova', [cut], { warn }), (e: Error) => {
    assert.equal(e.name, 'InputError');
    assert.match(e.message, new RegExp(`^${cut}: tar file is truncated: member "deb-disk2.vmdk" of \\d+ bytes runs past the end of the file \\(${size - 20_000} bytes\\) \\(at byte \\d+\\)$`));
    return true;
  });
  const bad = await damaged('v2v-ova-checksum');
  await flip(bad, 3); // in the first header's name
  await assert.rejects(openInput('ova', [bad], { warn }), { message: new RegExp(`^${bad}: tar header checksum [0-7]{6} \\(octal\\) does not match its bytes \\(sum [0-7]{6}\\) \\(at byte 148\\)$`) });
  const gz = join(await scratch('v2v-ova-gz'), 'deb12.ova');
  await run('sh', ['-c', `gzip -c < '${await ova()}' | head -c 100000 > '${gz}'`]);
  await assert.rejects(openInput('ova', [gz], { warn }), { message: new RegExp(`^${gz}: is not a valid gzip stream: `) });
  await writeFile(gz, 'not a tar at all, but long enough to hold a header'.repeat(20));
  await assert.rejects(openInput('ova', [gz], { warn }), { message: `${gz}: not a tar file (no "ustar" magic in the header) (at byte 257)` });
});

test('ova: a manifest mismatch names the file; a bzip2-compressed disk and a missing disk file are refused', async () => {
  const dir = await scratch('v2v-ova-bad-dir');
  await cp(await ovaDir(), dir, { recursive: true });
  await flip(join(dir, 'deb-disk2.vmdk'), 70_000);
  await assert.rejects(openInput('ova', [dir], { warn }), {
    message: new RegExp(`^${dir} \\(deb12\\.mf\\): SHA256 of "deb-disk2\\.vmdk" is [0-9a-f]{64}, but the manifest says [0-9a-f]{64}: the file is corrupt or was changed$`),
  });
  // The same damage inside a tar is found by streaming the member from the tar.
  const tar = join(dir, 'deb12.ova');
  await run('tar', ['--format=ustar', '-cf', tar, '-C', dir, 'deb12.ovf', 'deb12.mf', 'deb-disk1.vmdk', 'deb-disk2.vmdk']);
  await assert.rejects(openInput('ova', [tar], { warn }), { message: new RegExp(`^${tar} \\(deb12\\.mf\\): SHA256 of "deb-disk2\\.vmdk" is`) });

  const ovfOnly = await scratch('v2v-ova-ovf-only');
  await copyFile(join(dir, 'deb-disk1.vmdk'), join(ovfOnly, 'deb-disk1.vmdk'));
  await writeFile(join(ovfOnly, 'deb12.ovf'), OVF.replace('ovf:href="deb-disk1.vmdk" ovf:id="file1"', 'ovf:href="deb-disk1.vmdk" ovf:id="file1" ovf:compression="bzip2"'));
  await assert.rejects(openInput('ova', [ovfOnly], { warn }), {
    message: `${ovfOnly} (deb-disk1.vmdk): is bzip2-compressed (ovf:compression="bzip2"): not supported; export the OVA without compression`,
  });
  await writeFile(join(ovfOnly, 'deb12.ovf'), OVF);
  await assert.rejects(openInput('ova', [ovfOnly], { warn }), { message: `${ovfOnly}: the OVF names disk file "deb-disk2.vmdk", which is not in the OVA` });
  await writeFile(join(ovfOnly, 'deb12.ovf'), OVF.replace('</Envelope>', ''));
  await assert.rejects(openInput('ova', [ovfOnly], { warn }), { message: new RegExp(`^${ovfOnly} \\(deb12\\.ovf\\): not well-formed XML: `) });
});

test('ova: a gzip-compressed OVA, and gzip-compressed disks (ovf:compression), are unpacked to a temporary directory that close() removes', async () => {
  const dir = await ovaDir();
  const work = await scratch('v2v-ova-gzip');
  const tmp = join(work, 'tmp');
  await mkdir(tmp);
  const packed = join(work, 'packed');
  await mkdir(packed);
  for (const f of ['deb-disk1.vmdk', 'deb-disk2.vmdk']) await run('sh', ['-c', `gzip -c < '${join(dir, f)}' > '${join(packed, f)}'`]);
  await writeFile(join(packed, 'deb12.ovf'), OVF.replace(/(ovf:href="deb-disk\d\.vmdk" ovf:id="file\d")/g, '$1 ovf:compression="gzip"'));
  const whole = join(work, 'deb12.ova.gz');
  await run('sh', ['-c', `gzip -c < '${await ova()}' > '${whole}'`]);
  const want = [await qemuRawHash(join(dir, 'deb-disk1.vmdk')), await qemuRawHash(join(dir, 'deb-disk2.vmdk'))];
  const saved = process.env['TMPDIR'];
  process.env['TMPDIR'] = tmp;
  try {
    for (const path of [whole, packed]) {
      const source = await openInput('ova', [path], { warn });
      try {
        assert.equal(source.name, 'deb12');
        for (const [i, disk] of source.disks.entries()) {
          const dev = await disk.open();
          try {
            assert.equal(await hashDevice(dev), want[i], `${path}: disk ${i}`);
          } finally {
            await dev.close();
          }
        }
        // Opened again: the same bytes, unpacked only once.
        const again = await source.disks[0]!.open();
        assert.equal(await hashDevice(again), want[0]);
        await again.close();
        assert.equal((await readdir(tmp)).length, 1, 'unpacked into one temporary directory');
      } finally {
        await source.close();
      }
      assert.deepEqual(await readdir(tmp), [], `${path}: the temporary directory is gone after close`);
    }
  } finally {
    if (saved === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = saved;
  }
});
