/** NIC model names as VMware, OVF and libvirt write them, onto libvirt's. */
import type { NicModel } from '../types.js';

const MODELS: Record<string, NicModel> = {
  e1000: 'e1000',
  e1000e: 'e1000e',
  vmxnet3: 'vmxnet3',
  virtio: 'virtio',
  'virtio-net': 'virtio',
  rtl8139: 'rtl8139',
};

/** The model, or undefined for one we do not map (vlance, vmxnet2, …): only the report shows it. */
export function nicModel(name: string | undefined): NicModel | undefined {
  return name === undefined ? undefined : MODELS[name.toLowerCase()];
}
