/** --print-source: libguestfs's layout for what an input found. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { printSource } from '../../../v2v/input/print.js';
import type { Source } from '../../../v2v/types.js';

const never = () => Promise.reject(new Error('not opened'));

test('printSource: fields aligned as virt-v2v prints them, disks with buses, CD-ROMs, NICs', () => {
  const source: Source = {
    name: 'web',
    memory: 4n << 30n,
    vcpus: 2,
    firmware: 'uefi',
    disks: [
      { name: '/vms/web-000001.vmdk', bus: 'scsi', open: never },
      { name: '/vms/data.vmdk', open: never },
    ],
    cdroms: [{ bus: 'sata', image: '/iso/virtio-win.iso' }, { bus: 'ide' }],
    nics: [
      { mac: '00:0c:29:aa:bb:cc', network: 'VM Network', vnetType: 'network', model: 'e1000e' },
      { network: 'br0', vnetType: 'bridge' },
    ],
    close: () => Promise.resolve(),
  };
  assert.equal(
    printSource(source),
    `    source name: web
         memory: 4294967296 (bytes)
       nr vCPUs: 2
       firmware: uefi
disks:
\t0 [scsi] /vms/web-000001.vmdk
\t1 /vms/data.vmdk
removable media:
\tCD-ROM [sata] /iso/virtio-win.iso
\tCD-ROM [ide]
NICs:
\tNetwork "VM Network" mac: 00:0c:29:aa:bb:cc [e1000e]
\tBridge "br0"
`,
  );
  assert.equal(printSource({ ...source, disks: [], cdroms: [], nics: [] }).split('\n').slice(4).join('\n'), 'disks:\n\nremovable media:\n\nNICs:\n\n');
});
