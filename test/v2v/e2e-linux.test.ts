/**
 * End to end through the command: the Debian test guest exported as VMware does it (an OVA:
 * OVF, manifest, one streamOptimized VMDK), converted with `-i ova … -o local`; then
 * virt-xml-validate, e2fsck on every filesystem, the renamed devices in fstab, the first-boot
 * unit, re-inspection as the same Debian, and the OVA untouched.
 */
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { Guest } from '../../guest/guest.js';
import { inspectGuest, mountOs } from '../../inspect/inspect.js';
import { GuestFiles } from '../../v2v/guest-files.js';
import { fixture, scratch } from '../fixtures/cache.js';
import { hashFile, run } from '../fixtures/run.js';
import { BIN } from '../e2e/tools.js';
import { linuxGuest } from './images/linux-guest.js';
import { e2fsckAll, inspectDisks } from './guest-checks.js';

const MAC = '00:50:56:9a:7e:01';

function ovf(vmdkSize: number, capacity: number): string {
  const item = (body: string) => `      <Item>\n${body}\n      </Item>`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vmw="http://www.vmware.com/schema/ovf" xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData">
  <References>
    <File ovf:href="debian12-disk1.vmdk" ovf:id="file1" ovf:size="${vmdkSize}"/>
  </References>
  <DiskSection>
    <Info>Virtual disk information</Info>
    <Disk ovf:capacity="${capacity}" ovf:capacityAllocationUnits="byte" ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>
  </DiskSection>
  <NetworkSection>
    <Info>The list of logical networks</Info>
    <Network ovf:name="VM Network"/>
  </NetworkSection>
  <VirtualSystem ovf:id="debian12">
    <Info>A virtual machine</Info>
    <Name>debian12</Name>
    <VirtualHardwareSection>
      <Info>Virtual hardware requirements</Info>
${item('        <rasd:ElementName>4 virtual CPU(s)</rasd:ElementName>\n        <rasd:InstanceID>1</rasd:InstanceID>\n        <rasd:ResourceType>3</rasd:ResourceType>\n        <rasd:VirtualQuantity>4</rasd:VirtualQuantity>')}
${item('        <rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits>\n        <rasd:ElementName>1024MB of memory</rasd:ElementName>\n        <rasd:InstanceID>2</rasd:InstanceID>\n        <rasd:ResourceType>4</rasd:ResourceType>\n        <rasd:VirtualQuantity>1024</rasd:VirtualQuantity>')}
${item('        <rasd:Address>0</rasd:Address>\n        <rasd:ElementName>SCSI Controller 0</rasd:ElementName>\n        <rasd:InstanceID>3</rasd:InstanceID>\n        <rasd:ResourceSubType>VirtualSCSI</rasd:ResourceSubType>\n        <rasd:ResourceType>6</rasd:ResourceType>')}
${item('        <rasd:AddressOnParent>0</rasd:AddressOnParent>\n        <rasd:ElementName>Hard disk 1</rasd:ElementName>\n        <rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource>\n        <rasd:InstanceID>4</rasd:InstanceID>\n        <rasd:Parent>3</rasd:Parent>\n        <rasd:ResourceType>17</rasd:ResourceType>')}
${item(`        <rasd:Address>${MAC}</rasd:Address>\n        <rasd:AddressOnParent>7</rasd:AddressOnParent>\n        <rasd:Connection>VM Network</rasd:Connection>\n        <rasd:ElementName>Network adapter 1</rasd:ElementName>\n        <rasd:InstanceID>5</rasd:InstanceID>\n        <rasd:ResourceSubType>VmxNet3</rasd:ResourceSubType>\n        <rasd:ResourceType>10</rasd:ResourceType>`)}
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
`;
}

/** debian12.ova: the OVF first, then the manifest (SHA256) and the streamOptimized disk, packed by GNU tar as ustar. */
async function debianOva(): Promise<{ ova: string; disk: string }> {
  const { disk } = await linuxGuest();
  const dir = await fixture('v2v-e2e-debian-ova', `${ovf(0, 0)} ${disk} streamOptimized sha256sum tar ustar`, async (out) => {
    await run('mkdir', [out]);
    const vmdk = join(out, 'debian12-disk1.vmdk');
    await run('qemu-img', ['convert', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=streamOptimized', disk, vmdk]);
    await writeFile(join(out, 'debian12.ovf'), ovf((await stat(vmdk)).size, (await stat(disk)).size));
    const sums = await run('sha256sum', ['debian12.ovf', 'debian12-disk1.vmdk'], { cwd: out });
    await writeFile(join(out, 'debian12.mf'), sums.trim().split('\n').map((l) => l.replace(/^([0-9a-f]+) [ *](.+)$/, 'SHA256($2)= $1')).join('\n') + '\n');
    await run('tar', ['--format=ustar', '-cf', 'debian12.ova', 'debian12.ovf', 'debian12.mf', 'debian12-disk1.vmdk'], { cwd: out });
  });
  return { ova: join(dir, 'debian12.ova'), disk };
}

test('virt-v2v -i ova (Debian, streamOptimized) -o local -of raw: clean filesystems, virtio names, first-boot unit, same OS', async () => {
  const { ova, disk } = await debianOva();
  const before = await hashFile(ova);
  const osBefore = await inspectDisks([{ path: disk, format: 'raw' }]);
  const out = await scratch('v2v-e2e-linux');
  const stdout = await run(process.execPath, [join(BIN, 'virt-v2v.js'), '-i', 'ova', ova, '-o', 'local', '-os', out, '--mac', `${MAC}:bridge:br0`]);
  assert.match(stdout, /Converting Debian GNU\/Linux 12 \(bookworm\) to run on KVM/);
  assert.match(stdout, /^virt-v2v: \/etc\/fstab: /m, 'the fstab change is reported');
  assert.equal(await hashFile(ova), before, 'the OVA was written');

  const target = join(out, 'debian12-sda');
  const xmlFile = join(out, 'debian12.xml');
  await run('virt-xml-validate', [xmlFile, 'domain']);
  const xml = await readFile(xmlFile, 'utf8');
  assert.match(xml, /<driver name='qemu' type='raw'\/>\s*<source file='[^']*debian12-sda'\/>\s*<target dev='vda' bus='virtio'\/>/);
  assert.match(xml, /<memory unit='KiB'>1048576<\/memory>/);
  assert.match(xml, /<vcpu placement='static'>4<\/vcpu>/);
  assert.match(xml, new RegExp(`<interface type='bridge'>\\s*<mac address='${MAC}'/>\\s*<source bridge='br0'/>\\s*<model type='virtio'/>`));
  assert.match(xml, /org\.qemu\.guest_agent\.0/);
  // Sparse: the raw target holds the guest's data, not its whole size.
  const st = await stat(target);
  assert.ok(st.blocks * 512 < st.size / 2, `${st.blocks * 512} bytes allocated of ${st.size}`);

  assert.ok((await e2fsckAll([{ path: target, format: 'raw' }])).length >= 2);
  const osAfter = await inspectDisks([{ path: target, format: 'raw' }]);
  for (const k of ['type', 'distro', 'majorVersion', 'minorVersion', 'hostname', 'root'] as const) assert.equal(osAfter[k], osBefore[k], k);

  // Read the converted guest's files back through guestkit.
  const guest = await Guest.open([{ path: target, format: 'raw' }]);
  try {
    const { oses } = await inspectGuest(guest);
    await mountOs(guest, oses[0]!);
    const files = new GuestFiles(guest.mounts);
    const fstab = await files.readText('/etc/fstab');
    assert.match(fstab, /^\/dev\/vda1\s+\/boot\s/m);
    assert.doesNotMatch(fstab, /^\/dev\/sd/m);
    assert.ok(await files.exists('/etc/systemd/system/guestkit-firstboot.service'));
    assert.ok(await files.exists('/etc/systemd/system/multi-user.target.wants/guestkit-firstboot.service'));
  } finally {
    await guest.close();
  }
});
