/** A VMX as VMware writes it, over VMDKs made by qemu-img (one a snapshot delta): for the -i vmx tests and the fuzzer. */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fixture, scratch } from '../../fixtures/cache.js';
import { run } from '../../fixtures/run.js';
import { MiB, qemuVmdk, rawSource, varied } from '../../disk/vmdk/images.js';

const SIZE = 6 * MiB;

export const VMX = `.encoding = "UTF-8"
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
export async function vmdks(): Promise<string> {
  const base = await qemuVmdk('monolithicSparse', await rawSource(`vmdk-src-${SIZE}`, SIZE, varied(SIZE)));
  return fixture('v2v-vmx-disks', `web.vmdk + qemu-img create -b web.vmdk web-000001.vmdk; qemu-io writes; data.vmdk streamOptimized of ${base}`, async (dir) => {
    await mkdir(dir);
    await copyFile(base, join(dir, 'web.vmdk'));
    await run('qemu-img', ['create', '-q', '-f', 'vmdk', '-o', 'subformat=monolithicSparse', '-b', 'web.vmdk', '-F', 'vmdk', join(dir, 'web-000001.vmdk')]);
    await run('qemu-io', ['-f', 'vmdk', '-c', 'write -P 0x77 32k 8k', '-c', `write -P 0x22 ${SIZE - 65536} 64k`, join(dir, 'web-000001.vmdk')]);
    await run('qemu-img', ['convert', '-f', 'vmdk', '-O', 'vmdk', '-o', 'subformat=streamOptimized', base, join(dir, 'data.vmdk')]);
  });
}

export async function guestDir(name: string, vmx: string): Promise<string> {
  const src = await vmdks();
  const dir = await scratch(name);
  for (const f of ['web.vmdk', 'web-000001.vmdk', 'data.vmdk']) await copyFile(join(src, f), join(dir, f));
  await writeFile(join(dir, 'web.vmx'), vmx);
  return join(dir, 'web.vmx');
}
