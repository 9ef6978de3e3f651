/** A libvirt domain as `virsh dumpxml` writes it, over qcow2 images made by qemu-img: for the -i libvirtxml tests and the fuzzer. */
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fixture, scratch } from '../../fixtures/cache.js';
import { run } from '../../fixtures/run.js';
import { MiB, rawSource, varied } from '../../disk/vmdk/images.js';

/** base.qcow2 with an overlay top.qcow2 that names it (read only when the format is given). */
export async function images(): Promise<string> {
  const src = await rawSource('v2v-libvirt-src', 6 * MiB, varied(6 * MiB));
  return fixture('v2v-libvirt', `qemu-img convert -O qcow2 ${src} base.qcow2; create -b top.qcow2; qemu-io write`, async (dir) => {
    await mkdir(dir);
    await run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', src, join(dir, 'base.qcow2')]);
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', 'base.qcow2', '-F', 'qcow2', join(dir, 'top.qcow2')]);
    await run('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x33 1M 64k', join(dir, 'top.qcow2')]);
  });
}

/** A scratch guest.xml with a copy of base.qcow2 beside it (the XML names it relatively). */
export async function xmlFile(name: string, dir: string): Promise<string> {
  const work = await scratch(name);
  await copyFile(join(dir, 'base.qcow2'), join(work, 'base.qcow2'));
  return join(work, 'guest.xml');
}

export const domain = (dir: string, extra = '') => `<domain type='kvm'>
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
