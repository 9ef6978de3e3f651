/**
 * The registry edits that let Windows boot from a virtio disk before Plug and Play has run:
 * the driver's service, started at boot, and the PCI IDs bound to it. Windows before 8 looks
 * devices up in `CriticalDeviceDatabase`; from 8 on it uses the `DriverDatabase` at the root
 * of SYSTEM instead, so the hive having that key decides, as virt-v2v does. The DriverDatabase
 * entries describe a stand-in package "guestor.inf" that PnP replaces with the real driver
 * package (installed at first boot) once it runs.
 */
import { binary, dword, expandSz, multiSz, sz, type RegEdit } from './registry.js';

export type BlockDriver = 'viostor' | 'vioscsi';

/** The storage controllers' setup class (SCSIAdapter). */
const SCSI_CLASS_GUID = '{4D36E97B-E325-11CE-BFC1-08002BE10318}';

/** Legacy (virtio 0.9) and modern (virtio 1.0) PCI IDs of each controller. */
export const PCI_IDS: Record<BlockDriver, string[]> = {
  viostor: ['VEN_1AF4&DEV_1001&REV_00', 'VEN_1AF4&DEV_1042&REV_01'],
  vioscsi: ['VEN_1AF4&DEV_1004&REV_00', 'VEN_1AF4&DEV_1048&REV_01'],
};

const INF = 'guestor.inf';
const CONFIG = 'guestor_conf';

/** The service that loads the driver at boot (SERVICE_KERNEL_DRIVER, SERVICE_BOOT_START). */
export function serviceEdit(controlSet: string, driver: BlockDriver): RegEdit {
  return {
    path: [controlSet, 'Services', driver],
    values: {
      Type: dword(1),
      Start: dword(0),
      Group: sz('SCSI miniport'),
      ErrorControl: dword(1),
      ImagePath: expandSz(`system32\\drivers\\${driver}.sys`),
    },
  };
}

/** Windows before 8: each PCI ID names the service and its class. */
export function criticalDeviceEdits(controlSet: string, driver: BlockDriver): RegEdit[] {
  return PCI_IDS[driver].map((id) => ({
    path: [controlSet, 'Control', 'CriticalDeviceDatabase', `PCI#${id}`],
    values: { Service: sz(driver), ClassGUID: sz(SCSI_CLASS_GUID) },
  }));
}

/** Windows 8 and later: a driver package in the DriverDatabase claiming the PCI IDs. */
export function driverDatabaseEdits(driver: BlockDriver, arch: string): RegEdit[] {
  const winArch = arch === 'i386' ? 'x86' : 'amd64';
  const label = `${INF}_${winArch}_0000000000000000`;
  // DriverPackages\…\Version: the package's class GUID (SCSIAdapter) and version; Windows-Kernel-Pnp on 10/2016 needs it.
  const version = Buffer.concat([Buffer.from('00ff090000000000', 'hex'), guidBytes(SCSI_CLASS_GUID), Buffer.alloc(24)]);
  return [
    { path: ['DriverDatabase', 'DriverInfFiles', INF], values: { '': multiSz([label]), Active: sz(label), Configurations: multiSz([CONFIG]) } },
    ...PCI_IDS[driver].map((id) => ({ path: ['DriverDatabase', 'DeviceIds', 'PCI', id], values: { [INF]: binary(Buffer.from('01ff0000', 'hex')) } })),
    { path: ['DriverDatabase', 'DriverPackages', label], values: { Version: binary(version) } },
    { path: ['DriverDatabase', 'DriverPackages', label, 'Configurations', CONFIG], values: { ConfigFlags: dword(0), Service: sz(driver) } },
    ...PCI_IDS[driver].map((id) => ({ path: ['DriverDatabase', 'DriverPackages', label, 'Descriptors', 'PCI', id], values: { Configuration: sz(CONFIG) } })),
  ];
}

/** A GUID as Windows stores it: the first three fields little-endian. */
function guidBytes(guid: string): Buffer {
  const hex = guid.replace(/[{}-]/g, '');
  const le = (s: string) => Buffer.from(s, 'hex').reverse();
  return Buffer.concat([le(hex.slice(0, 8)), le(hex.slice(8, 12)), le(hex.slice(12, 16)), Buffer.from(hex.slice(16), 'hex')]);
}
