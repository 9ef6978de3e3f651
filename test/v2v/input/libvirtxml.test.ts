/** `-i libvirtxml`: a domain as `virsh dumpxml` writes it, over images made by qemu-img. */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { openInput } from '../../../v2v/input/open.js';
import { hashDevice, qemuRawHash } from '../../fixtures/run.js';
import { domain, images, xmlFile } from './libvirt-images.js';

const warn = (m: string) => assert.fail(`unexpected warning: ${m}`);

test('libvirtxml: name, memory with its unit, vCPUs, pflash firmware, disks with formats and buses, NICs', async () => {
  const dir = await images();
  const file = await xmlFile('v2v-libvirtxml', dir);
  await writeFile(file, domain(dir));
  const source = await openInput('libvirtxml', [file], { warn });
  assert.equal(source.name, '007');
  assert.equal(source.memory, 3n << 30n);
  assert.equal(source.vcpus, 4);
  assert.equal(source.firmware, 'uefi');
  assert.deepEqual(
    source.disks.map((d) => [d.name, d.bus]),
    [
      [join(dir, 'top.qcow2'), 'virtio'],
      [join(file, '..', 'base.qcow2'), 'ide'],
    ],
  );
  assert.deepEqual(source.cdroms, [{ bus: 'sata', image: '/var/lib/libvirt/images/debian.iso' }]);
  assert.deepEqual(source.nics, [
    { mac: '52:54:00:12:34:56', network: 'default', vnetType: 'network', model: 'virtio' },
    { mac: '52:54:00:ab:cd:ef', network: 'br0', vnetType: 'bridge', model: 'e1000e' },
  ]);
  // The driver type is the format given, so the overlay's backing file is followed.
  const dev = await source.disks[0]!.open();
  try {
    assert.equal(await hashDevice(dev), await qemuRawHash(join(dir, 'top.qcow2')));
  } finally {
    await dev.close();
  }
});

test('libvirtxml: BIOS without a loader, memory in KiB by default; broken XML, a missing disk and bad values are refused naming the file', async () => {
  const dir = await images();
  const file = await xmlFile('v2v-libvirtxml-bad', dir);
  const bios = domain(dir).replace(/<loader[^\n]*\n/, '').replace("<memory unit='GiB'>3</memory>", '<memory>2097152</memory>');
  await writeFile(file, bios);
  const source = await openInput('libvirtxml', [file], { warn });
  assert.equal(source.firmware, 'bios');
  assert.equal(source.memory, 2n << 30n);

  await writeFile(file, bios.replace('</devices>', '</device>'));
  await assert.rejects(openInput('libvirtxml', [file], { warn }), { name: 'InputError', message: `${file}: not well-formed XML: Expected closing tag 'devices' (opened in line 11, col 3) instead of closing tag 'device'. (line 42, column 3)` });
  await writeFile(file, domain(dir, "<disk type='file' device='disk'><source file='/nonexistent/gone.img'/><target dev='vdc' bus='virtio'/></disk>"));
  await assert.rejects(openInput('libvirtxml', [file], { warn }), { message: `${file}: disk "/nonexistent/gone.img": cannot read it: ENOENT: no such file or directory, access '/nonexistent/gone.img'` });
  await writeFile(file, bios.replace('<memory>2097152</memory>', "<memory unit='parsecs'>2</memory>"));
  await assert.rejects(openInput('libvirtxml', [file], { warn }), { message: `${file}: <memory unit="parsecs">2</memory> is not an amount of memory` });
  await writeFile(file, '<network><name>default</name></network>');
  await assert.rejects(openInput('libvirtxml', [file], { warn }), { message: `${file}: not a libvirt domain: no <domain> element` });
});
