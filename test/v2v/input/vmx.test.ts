/** `-i vmx`: a VMX as VMware writes it, over VMDKs made by qemu-img (one a snapshot delta). */
import assert from 'node:assert/strict';
import { truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { openInput } from '../../../v2v/input/open.js';
import { printSource } from '../../../v2v/input/print.js';
import { parseVmx } from '../../../v2v/input/vmx-parse.js';
import { hashDevice, qemuRawHash } from '../../fixtures/run.js';
import { MiB } from '../../disk/vmdk/images.js';
import { guestDir, VMX } from './vmx-images.js';

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
