/** `-i libvirtxml`: a domain as `virsh dumpxml` writes it, over images made by qemu-img. */
import assert from 'node:assert/strict';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { openInput } from '../../../v2v/input/open.js';
import { fixture, scratch } from '../../fixtures/cache.js';
import { hashDevice, qemuRawHash, run } from '../../fixtures/run.js';
import { MiB, rawSource, varied } from '../../disk/vmdk/images.js';

const warn = (m: string) => assert.fail(`unexpected warning: ${m}`);

/** base.qcow2 with an overlay top.qcow2 that names it (read only when the format is given). */
async function images(): Promise<string> {
  const src = await rawSource('v2v-libvirt-src', 6 * MiB, varied(6 * MiB));
  return fixture('v2v-libvirt', `qemu-img convert -O qcow2 ${src} base.qcow2; create -b top.qcow2; qemu-io write`, async (dir) => {
    await mkdir(dir);
    await run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', src, join(dir, 'base.qcow2')]);
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', 'base.qcow2', '-F', 'qcow2', join(dir, 'top.qcow2')]);
    await run('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x33 1M 64k', join(dir, 'top.qcow2')]);
  });
}

/** A scratch guest.xml with a copy of base.qcow2 beside it (the XML names it relatively). */
async function xmlFile(name: string, dir: string): Promise<string> {
  const work = await scratch(name);
  await copyFile(join(dir, 'base.qcow2'), join(work, 'base.qcow2'));
  return join(work, 'guest.xml');
}

const domain = (dir: string, extra = '') => `<domain type='kvm'>
  <name>007</name>
  <uuid>c7a5fdbd-cdaf-9455-926a-d65c16db1809</uuid>
  <memory unit='GiB'>3</memory>
  <currentMemory unit='KiB'>1048576</currentMemory>
  <vcpu placement='static'>4</vcpu>
  <os>
    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
    <loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>
    <nvram>/var/lib/libvirt/qemu/nvram/007_VARS.fd</nvram>
  </os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='${dir}/top.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='/var/lib/libvirt/images/debian.iso'/>
      <target dev='sda' bus='sata'/>
      <readonly/>
    </disk>
    <disk type='file' device='disk'>
      <source file='base.qcow2'/>
      <target dev='hdb' bus='ide'/>
    </disk>
    <interface type='network'>
      <mac address='52:54:00:12:34:56'/>
      <source network='default'/>
      <model type='virtio'/>
    </interface>
    <interface type='bridge'>
      <mac address='52:54:00:ab:cd:ef'/>
      <source bridge='br0'/>
      <model type='e1000e'/>
    </interface>
    <interface type='user'>
      <mac address='52:54:00:00:00:01'/>
    </interface>
    ${extra}
  </devices>
</domain>
`;

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
