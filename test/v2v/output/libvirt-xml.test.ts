/** -o local's libvirt XML: valid per virt-xml-validate, with the buses, firmware and networks the conversion chose. */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { hardwareOf } from '../../../v2v/output/hardware.js';
import { libvirtXml } from '../../../v2v/output/libvirt-xml.js';
import { NetworkMap } from '../../../v2v/output/networks.js';
import { scratch } from '../../fixtures/cache.js';
import { run } from '../../fixtures/run.js';
import { FALLBACK, jobOf, VIRTIO } from './job.js';

async function validate(xml: string, name: string): Promise<void> {
  const path = join(await scratch(`v2v-xml-${name}`), 'guest.xml');
  await writeFile(path, xml);
  await run('virt-xml-validate', [path, 'domain']);
}

test('libvirt XML: a virtio guest on q35 with its disks, NICs, agent channel, rng and balloon; valid per virt-xml-validate', async () => {
  const files = ['/var/lib/images/web-sda', '/var/lib/images/web-sdb'];
  const xml = libvirtXml(hardwareOf(jobOf(VIRTIO), files, 'qcow2', new NetworkMap()));
  await validate(xml, 'virtio');
  assert.match(xml, /<name>web &amp; db<\/name>/);
  assert.match(xml, /<memory unit='KiB'>3145728<\/memory>/);
  assert.match(xml, /<vcpu placement='static'>4<\/vcpu>/);
  assert.match(xml, /<type arch='x86_64' machine='q35'>hvm<\/type>/);
  assert.match(xml, /<driver name='qemu' type='qcow2'\/>\s*<source file='\/var\/lib\/images\/web-sda'\/>\s*<target dev='vda' bus='virtio'\/>/);
  assert.match(xml, /<source file='\/var\/lib\/images\/web-sdb'\/>\s*<target dev='vdb' bus='virtio'\/>/);
  // q35 has no IDE: the source's IDE CD-ROM moves to SATA.
  assert.match(xml, /device='cdrom'>[\s\S]*?<target dev='sda' bus='sata'\/>/);
  assert.equal((xml.match(/<model type='virtio'\/>/g) ?? []).length, 4, 'three virtio NICs and virtio video');
  assert.match(xml, /<mac address='00:50:56:aa:bb:01'\/>\s*<source network='VM Network'\/>/);
  assert.match(xml, /<interface type='bridge'>\s*<mac address='00:50:56:aa:bb:03'\/>\s*<source bridge='br-dmz'\/>/);
  assert.match(xml, /name='org.qemu.guest_agent.0'/);
  assert.match(xml, /<rng model='virtio'>/);
  assert.match(xml, /<memballoon model='virtio'\/>/);
  assert.doesNotMatch(xml, /<loader/);
  assert.match(xml, /<clock offset='utc'\/>/);
});

test('libvirt XML: the fallback buses (IDE disks on i440fx, e1000, VGA), no agent, balloon off; Windows keeps local time', async () => {
  const xml = libvirtXml(hardwareOf(jobOf(FALLBACK, [], 'windows'), ['/images/w-sda'], 'raw', new NetworkMap()));
  await validate(xml, 'fallback');
  assert.match(xml, /machine='pc'/);
  assert.match(xml, /<target dev='hda' bus='ide'\/>/);
  assert.match(xml, /device='cdrom'>[\s\S]*?<target dev='hdb' bus='ide'\/>/);
  assert.equal((xml.match(/<model type='e1000'\/>/g) ?? []).length, 3);
  assert.match(xml, /<video>\s*<model type='vga'\/>/);
  assert.doesNotMatch(xml, /guest_agent|<rng/);
  assert.match(xml, /<memballoon model='none'\/>/);
  assert.match(xml, /<clock offset='localtime'\/>/);
});

test('libvirt XML: UEFI names OVMF as pflash loader and an nvram template', async () => {
  const xml = libvirtXml(hardwareOf(jobOf({ ...VIRTIO, firmware: 'uefi' }), ['/images/u-sda'], 'raw', new NetworkMap()));
  await validate(xml, 'uefi');
  assert.match(xml, /<loader readonly='yes' type='pflash'>\/usr\/share\/[^<]*OVMF_CODE[^<]*\.fd<\/loader>\s*<nvram template='\/usr\/share\/[^']*OVMF_VARS[^']*\.fd'\/>/);
});

test('libvirt XML: --mac beats --network IN:OUT, which beats --network OUT; --bridge maps bridges only', async () => {
  const map = new NetworkMap();
  map.addMac('00:50:56:AA:BB:01', { type: 'bridge', name: 'br0' });
  map.add('network', 'Storage', 'san');
  map.add('network', undefined, 'default');
  map.add('bridge', undefined, 'virbr1');
  const xml = libvirtXml(hardwareOf(jobOf(VIRTIO), ['/images/n-sda'], 'raw', map));
  await validate(xml, 'networks');
  assert.match(xml, /<interface type='bridge'>\s*<mac address='00:50:56:aa:bb:01'\/>\s*<source bridge='br0'\/>/);
  assert.match(xml, /<mac address='00:50:56:AA:BB:02'\/>\s*<source network='san'\/>/);
  assert.match(xml, /<mac address='00:50:56:aa:bb:03'\/>\s*<source bridge='virbr1'\/>/);
  assert.throws(() => map.add('network', 'Storage', 'other'), /mapped twice/);
  assert.throws(() => map.addMac('00:50:56:aa:bb:01', { type: 'network', name: 'x' }), /mapped twice/);
});
