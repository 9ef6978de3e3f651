/** A converted guest as the pipeline hands it to an output: the hardware a VMware guest had, and what a converter answered. */
import type { BlockDevice } from '../../../disk/block-device.js';
import type { OsInfo } from '../../../inspect/os-info.js';
import type { OutputJob } from '../../../v2v/output/output.js';
import type { Converted, Source } from '../../../v2v/types.js';

export const VIRTIO: Converted = { diskBus: 'virtio', nicModel: 'virtio', video: 'virtio', firmware: 'bios', guestAgent: true, virtioRng: true, virtioBalloon: true, clock: 'utc' };
export const FALLBACK: Converted = { diskBus: 'ide', nicModel: 'e1000', video: 'vga', firmware: 'bios', guestAgent: false, virtioRng: false, virtioBalloon: false, clock: 'localtime' };

export function vmwareSource(name = 'web & db'): Source {
  return {
    name,
    memory: 3n << 30n,
    vcpus: 4,
    firmware: 'bios',
    disks: [],
    cdroms: [{ bus: 'ide', image: '/isos/tools.iso' }],
    nics: [
      { mac: '00:50:56:aa:bb:01', network: 'VM Network', vnetType: 'network', model: 'vmxnet3' },
      { mac: '00:50:56:AA:BB:02', network: 'Storage', vnetType: 'network', model: 'e1000' },
      { mac: '00:50:56:aa:bb:03', network: 'br-dmz', vnetType: 'bridge' },
    ],
    close: async () => {},
  };
}

export function osOf(type: 'linux' | 'windows'): OsInfo {
  return {
    root: '/dev/sda2', type, distro: type === 'linux' ? 'debian' : 'windows', productName: type === 'linux' ? 'Debian GNU/Linux 12' : 'Windows Server 2019',
    productVariant: '', majorVersion: 12, minorVersion: 0, arch: 'x86_64', hostname: 'web', packageFormat: '', packageManagement: '', osinfo: '',
    mountpoints: [], driveLetters: [], filesystems: [],
  };
}

export function jobOf(converted: Converted, disks: BlockDevice[] = [], type: 'linux' | 'windows' = 'linux'): OutputJob {
  const source = vmwareSource();
  return { name: source.name, source, os: osOf(type), converted, disks, copy: { parallel: 1, message: () => undefined } };
}
