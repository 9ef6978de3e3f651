/** `-i vmx`: a VMX as VMware writes it, over VMDKs made by qemu-img (one a snapshot delta). */
import assert from 'node:assert/strict';
import { copyFile, mkdir, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { openInput } from '../../../v2v/input/open.js';
import { printSource } from '../../../v2v/input/print.js';
import { parseVmx } from '../../../v2v/input/vmx-parse.js';
import { fixture, scratch } from '../../fixtures/cache.js';
import { hashDevice, qemuRawHash, run } from '../../fixtures/run.js';
import { MiB, qemuVmdk, rawSource, varied } from '../../disk/vmdk/images.js';

const SIZE = 6 * MiB;

const VMX = `.encoding = "UTF-8"
config.version = "8"
virtualHW.version = "19"
displayName = "web |22front|22 |7C 01"
guestOS = "windows2019srv-64"
memSize = "4096"
numvcpus = "2"
firmware = "efi"
scsi0.present = "TRUE"
scsi0.virtualDev = "lsisas1068"
scsi0:1.present = "TRUE"
scsi0:1.deviceType = "scsi-hardDisk"
scsi0:1.fileName = "data.vmdk"
scsi0:0.present = "TRUE"
scsi0:0.fileName = "web-000001.vmdk"
ide1:0.present = "FALSE"
ide1:0.fileName = "gone.vmdk"
ide0:0.present = "TRUE"
ide0:0.fileName = "data.vmdk"
nvme0.present = "TRUE"
nvme0:0.present = "TRUE"
nvme0:0.fileName = "web.vmdk"
sata0.present = "TRUE"
sata0:0.present = "TRUE"
sata0:0.deviceType = "cdrom-image"
sata0:0.fileName = "/vmfs/volumes/datastore1/iso/virtio-win.iso"
sata0:1.present = "TRUE"
sata0:1.deviceType = "atapi-cdrom"
sata0:1.fileName = "auto detect"
Ethernet1.Present = "TRUE"
ethernet1.virtualDev = "vmxnet3"
ethernet1.connectionType = "bridged"
ethernet1.addressType = "static"
ethernet1.address = "00:50:56:01:02:03"
ethernet0.present = "TRUE"
ethernet0.virtualDev = "e1000e"
ethernet0.networkName = "VM Network"
ethernet0.addressType = "generated"
ethernet0.generatedAddress = "00:0c:29:aa:bb:cc"
ethernet2.present = "FALSE"
ethernet2.virtualDev = "e1000"
`;

/** web.vmdk (monolithicSparse) with its snapshot delta web-000001.vmdk, and data.vmdk. */
async function vmdks(): Promise<string> {
  const base = await qemuVmdk('monolithicSparse', await rawSource(`vmdk-src-${SIZE}`, SIZE, varied(SIZE)));
  return fixture('v2v-vmx-disks', `web.vmdk + qemu-img create -b web.vmdk web-000001.vmdk; qemu-io writes; data.vmdk streamOptimized of ${base}`, async (dir) => {
    await mkdir(dir);
    await copyFile(base, join(dir, 'web.vmdk'));
    await run('qemu-img', ['create', '-q', '-f', 'vmdk', '-o', 'subformat=monolithicSparse', '-b', 'web.vmdk', '-F', 'vmdk', join(dir, 'web-000001.vmdk')]);
    await run('qemu-io', ['-f', 'vmdk', '-c', 'write -P 0x77 32k 8k', '-c', `write -P 0x22 ${SIZE - 65536} 64k`, join(dir, 'web-000001.vmdk')]);
    await run('qemu-img', ['convert', '-f', 'vmdk', '-O', 'vmdk', '-o', 'subformat=streamOptimized', base, join(dir, 'data.vmdk')]);
  });
}

async function guestDir(name: string, vmx: string): Promise<string> {
  const src = await vmdks();
  const dir = await scratch(name);
  for (const f of ['web.vmdk', 'web-000001.vmdk', 'data.vmdk']) await copyFile(join(src, f), join(dir, f));
  await writeFile(join(dir, 'web.vmx'), vmx);
  return join(dir, 'web.vmx');
}

test('vmx: hardware, disks in controller order, CD-ROMs and NICs as VMware wrote them', async () => {
  const file = await guestDir('v2v-vmx', VMX);
  const warnings: string[] = [];
  const source = await openInput('vmx', [file], { warn: (m) => warnings.push(m) });
  assert.deepEqual(warnings, []);
  assert.equal(source.name, 'web "front" | 01');
  assert.equal(source.memory, 4096n * MiB_n);
  assert.equal(source.vcpus, 2);
  assert.equal(source.firmware, 'uefi');
  const dir = join(file, '..');
  assert.deepEqual(
    source.disks.map((d) => [d.name, d.bus]),
    [
      [join(dir, 'web-000001.vmdk'), 'scsi'],
      [join(dir, 'data.vmdk'), 'scsi'],
      [join(dir, 'web.vmdk'), 'nvme'],
      [join(dir, 'data.vmdk'), 'ide'],
    ],
  );
  // --print-source names the NVMe controller (the target bus is the converter's, as in virt-v2v).
  assert.match(printSource(source), new RegExp(`\\n\\s*2 \\[nvme\\] ${join(dir, 'web.vmdk').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`));
  assert.deepEqual(source.cdroms, [{ bus: 'sata', image: '/vmfs/volumes/datastore1/iso/virtio-win.iso' }, { bus: 'sata' }]);
  assert.deepEqual(source.nics, [
    { mac: '00:0c:29:aa:bb:cc', network: 'VM Network', vnetType: 'network', model: 'e1000e' },
    { mac: '00:50:56:01:02:03', network: 'ethernet1', vnetType: 'bridge', model: 'vmxnet3' },
  ]);
  // The snapshot delta reads through to its parent; the streamOptimized disk reads as qemu does.
  for (const disk of source.disks.slice(0, 2)) {
    const dev = await disk.open();
    try {
      assert.equal(await hashDevice(dev), await qemuRawHash(disk.name));
    } finally {
      await dev.close();
    }
  }
  await source.close();
});

test('vmx: defaults (32 MiB, 1 vCPU, BIOS), the name from the file, and warnings for odd lines', async () => {
  const file = await guestDir('v2v-vmx-defaults', 'this is not a vmx line\nfirmware = "pxe"\nmemsize = "64"\nMEMSIZE = "128"\nguestOS = otherlinux\n');
  const warnings: string[] = [];
  const source = await openInput('vmx', [file], { warn: (m) => warnings.push(m) });
  assert.equal(source.name, 'web');
  assert.equal(source.memory, 64n * MiB_n);
  assert.equal(source.vcpus, 1);
  assert.equal(source.firmware, 'bios');
  assert.deepEqual(source.disks, []);
  assert.deepEqual(warnings, [
    `${file}: cannot parse this VMX line, ignoring it: this is not a vmx line`,
    `${file}: duplicate VMX key "MEMSIZE" ignored`,
    `${file}: no displayName key found in the VMX file`,
    `${file}: unknown firmware value "pxe", assuming BIOS`,
  ]);
  assert.equal(parseVmx('guestOS = otherlinux\n', 'x', assert.fail).get('guestos'), 'otherlinux');
});

test('vmx: a missing disk, a VMDK given as the VMX, a binary file and a huge file are refused naming the file', async () => {
  const file = await guestDir('v2v-vmx-bad', VMX.replace('"data.vmdk"\nscsi0:0', '"missing.vmdk"\nscsi0:0'));
  const missing = join(file, '..', 'missing.vmdk');
  const warn = () => {};
  await assert.rejects(openInput('vmx', [file], { warn }), {
    name: 'InputError',
    message: `${file}: scsi0:1.fileName "missing.vmdk": cannot read the disk: ENOENT: no such file or directory, access '${missing}'`,
  });
  const vmdk = join(file, '..', 'web-000001.vmdk');
  await assert.rejects(openInput('vmx', [vmdk], { warn }), { message: `${vmdk}: not a VMX file: binary data (a NUL byte) (at byte 5)` });
  const desc = join(file, '..', 'desc.vmx');
  await writeFile(desc, '# Disk DescriptorFile\nversion=1\n');
  await assert.rejects(openInput('vmx', [desc], { warn }), { message: `${desc}: is a VMDK (a disk image), but a VMX (VMware metadata) was expected` });
  const huge = join(file, '..', 'huge.vmx');
  await writeFile(huge, '');
  await truncate(huge, 64 * MiB);
  await assert.rejects(openInput('vmx', [huge], { warn }), { message: `${huge}: ${64 * MiB} bytes is too large for a VMX file (at most ${4 * MiB})` });
  await writeFile(huge, 'numvcpus = "0"\n');
  await assert.rejects(openInput('vmx', [huge], { warn }), { message: `${huge}: numvcpus "0" is not a number of vCPUs from 1 to 4096` });
});

const MiB_n = BigInt(MiB);
