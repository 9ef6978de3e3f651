/**
 * The pipeline on a Debian-like guest from `-i disk`: overlays, inspection, the Linux
 * converter, `-o local`; the source untouched, the targets equal to the kept overlays, every
 * filesystem clean, and the result still the same OS.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { openInput } from '../../v2v/input/open.js';
import { localOutput } from '../../v2v/output/dir-output.js';
import { NetworkMap } from '../../v2v/output/networks.js';
import { NullOutput } from '../../v2v/output/null.js';
import type { TargetFormat } from '../../v2v/output/output.js';
import { v2v, type V2vOptions } from '../../v2v/v2v.js';
import { scratch } from '../fixtures/cache.js';
import { hashFile, run, runStatus } from '../fixtures/run.js';
import { linuxImage } from '../inspect/linux-image.js';
import { e2fsckAll, inspectDisks } from './guest-checks.js';

interface Log {
  messages: string[];
  changes: string[];
  warnings: string[];
}

function options(tmp: string, extra: Partial<V2vOptions> = {}): V2vOptions & { log: Log } {
  const log: Log = { messages: [], changes: [], warnings: [] };
  return {
    tmpdir: tmp,
    message: (m) => log.messages.push(m),
    report: (c) => log.changes.push(c),
    warn: (w) => log.warnings.push(w),
    ...extra,
    log,
  };
}

const input = (disk: string) => openInput('disk', [disk], { warn: (m) => assert.fail(m) });

for (const format of ['raw', 'qcow2'] as TargetFormat[]) {
  test(`v2v -i disk -o local -of ${format}: targets equal the overlays, filesystems clean, same OS, source untouched, no overlay left`, async () => {
    const disk = join(await linuxImage(), 'disk.img');
    const before = await hashFile(disk);
    const osBefore = await inspectDisks([{ path: disk, format: 'raw' }]);
    const out = await scratch(`v2v-local-${format}`);
    const tmp = await scratch(`v2v-tmp-${format}`);
    const opts = options(tmp, { keepOverlays: true, name: 'web' });
    const source = await input(disk);
    const result = await v2v(source, localOutput(out, { format, allocation: 'sparse', networks: new NetworkMap() }), opts);
    await source.close();

    assert.equal(await hashFile(disk), before, 'the source image was written');
    assert.deepEqual((await readdir(out)).sort(), ['web-sda', 'web.xml']);
    const target = join(out, 'web-sda');
    if (format === 'qcow2') await run('qemu-img', ['check', target]);
    const [overlay] = result.overlays!;
    const cmp = await runStatus('qemu-img', ['compare', '-f', 'qcow2', '-F', format, overlay!, target]);
    assert.equal(cmp.code, 0, `qemu-img compare: ${cmp.stdout}${cmp.stderr}`);
    // The conversion changed the guest: the target differs from the source.
    assert.notEqual((await runStatus('qemu-img', ['compare', '-q', '-f', 'raw', '-F', format, disk, target])).code, 0);

    assert.deepEqual((await e2fsckAll([{ path: target, format }])).sort(), ['/dev/sda1', '/dev/vg0/home', '/dev/vg0/root']);
    const osAfter = await inspectDisks([{ path: target, format }]);
    for (const k of ['type', 'distro', 'majorVersion', 'minorVersion', 'hostname', 'root'] as const) assert.equal(osAfter[k], osBefore[k], k);
    assert.equal(result.os.distro, 'debian');

    const xml = join(out, 'web.xml');
    await run('virt-xml-validate', [xml, 'domain']);
    const text = await readFile(xml, 'utf8');
    assert.match(text, new RegExp(`<driver name='qemu' type='${format}'/>\\s*<source file='${target}'/>\\s*<target dev='\\w+' bus='${result.converted.diskBus}'/>`));
    assert.deepEqual(opts.log.messages.slice(0, 2), ['Opening the source', 'Inspecting the source']);
    assert.ok(opts.log.messages.includes('Converting Debian GNU/Linux 12 (bookworm) to run on KVM'), opts.log.messages.join('\n'));
    assert.ok(opts.log.messages.includes('Copying disk 1/1'));
    assert.ok(opts.log.changes.length > 0, 'the converter reported its changes');
    // Only the kept overlay is left in the temporary directory.
    const [work] = await readdir(tmp);
    assert.deepEqual(await readdir(join(tmp, work!)), ['sda.qcow2']);
  });
}

test('v2v: the overlays are removed when the output fails, and the source is untouched', async () => {
  const disk = join(await linuxImage(), 'disk.img');
  const before = await hashFile(disk);
  const out = await scratch('v2v-fail');
  const tmp = await scratch('v2v-fail-tmp');
  // A file where the disk must go: the target cannot be created.
  await run('mkdir', [join(out, 'web-sda')]);
  const source = await input(disk);
  try {
    await assert.rejects(v2v(source, localOutput(out, { format: 'raw', allocation: 'sparse', networks: new NetworkMap() }), options(tmp, { name: 'web' })), /web-sda/);
  } finally {
    await source.close();
  }
  assert.deepEqual(await readdir(tmp), []);
  assert.equal(await hashFile(disk), before);
});

test('v2v: a disk with no OS is refused as virt-v2v refuses it; a missing -os directory fails before the source is opened', async () => {
  const tmp = await scratch('v2v-blank');
  const blank = join(tmp, 'blank.img');
  await writeFile(blank, Buffer.alloc(4 << 20));
  const source = await input(blank);
  try {
    await assert.rejects(v2v(source, new NullOutput(), options(tmp)), /inspection could not detect the source guest/);
    const opts = options(tmp);
    await assert.rejects(v2v(source, localOutput(join(tmp, 'nowhere'), { format: 'raw', allocation: 'sparse', networks: new NetworkMap() }), opts), /nowhere: the output directory does not exist/);
    assert.deepEqual(opts.log.messages, []);
  } finally {
    await source.close();
  }
  assert.deepEqual((await readdir(tmp)).sort(), ['blank.img']);
});
