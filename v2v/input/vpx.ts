/**
 * `-ic vpx://user@server/Datacenter/host/esxi?no_verify=1 GUEST`: the guest as vCenter
 * describes it (`remote/vpx.ts`, the vSphere SOAP API): memory, CPUs and firmware from its
 * config, disks in device order with their controllers' buses, CD-ROMs and NICs. Each disk
 * opens as its base flat file over HTTPS with the session's cookie (`remote/open.ts`).
 */
import type { Firmware, Source, SourceBus, SourceCdrom, SourceDisk, SourceNic } from '../types.js';
import { cdromBus } from './cdrom-bus.js';
import { InputError } from './errors.js';
import { nicModel } from './nic-model.js';
import type { InputOptions } from './options.js';

type Device = Record<string, any>;

const CONTROLLER_BUS: Record<string, SourceBus> = {
  VirtualIDEController: 'ide',
  VirtualAHCIController: 'sata',
  VirtualSATAController: 'sata',
  VirtualLsiLogicController: 'scsi',
  VirtualLsiLogicSASController: 'scsi',
  ParaVirtualSCSIController: 'scsi',
  VirtualBusLogicController: 'scsi',
  VirtualNVMEController: 'nvme',
};

export async function vpxInput(args: string[], opts: InputOptions): Promise<Source> {
  const connection = opts.connection;
  if (connection === undefined || !connection.startsWith('vpx://')) throw new InputError('-i vpx', 'needs -ic vpx://user@server/Datacenter/host/esxi');
  if (args.length !== 1) throw new InputError(connection, 'expecting one guest name on the command line');
  const [{ resolveVpxGuest, VpxError }, { openRemote }] = await Promise.all([import('../../remote/vpx.js'), import('../../remote/open.js')]);
  const guest = await resolveVpxGuest(connection, args[0]!, { passwordFile: opts.passwordFile, caFile: opts.caFile }).catch((e: Error) => {
    throw e instanceof VpxError ? new InputError(args[0]!, e.message, undefined, { cause: e }) : e;
  });
  opts.debug?.(`vpx: guest ${guest.name}: ${guest.disks.map((d) => d.datastorePath).join(', ')}`);

  const busOf = (d: Device) => CONTROLLER_BUS[guest.devices.find((c) => c['key'] === d['controllerKey'])?.['@type'] ?? ''];
  // vpxDisks lists the VirtualDisk devices that have a backing, in device order.
  const diskDevices = guest.devices.filter((d) => d['@type'] === 'VirtualDisk' && d['backing']);
  const disks = guest.disks.map((d, i): SourceDisk => {
    const bus = diskDevices[i] ? busOf(diskDevices[i]!) : undefined;
    // The Login's session reads the disk; should vCenter end it during a long copy, the next
    // request's 401 renews it with basic auth as the same user (-ip's password).
    const open = () => openRemote(d.url, { startCookie: guest.cookie, user: guest.user, passwordFile: opts.passwordFile, caFile: opts.caFile, verify: guest.verify });
    return { name: d.url, open, ...(bus ? { bus } : {}) };
  });
  const cdroms = guest.devices
    .filter((d) => d['@type'] === 'VirtualCdrom')
    .map((d): SourceCdrom => {
      const iso = d['backing']?.['fileName'];
      return { bus: cdromBus(busOf(d), 'ide'), ...(typeof iso === 'string' ? { image: iso } : {}) };
    });
  const nics = guest.devices.filter((d) => d['macAddress'] !== undefined).map(nic);

  return {
    name: guest.name,
    memory: BigInt(guest.memoryMB ?? 1024) << 20n,
    vcpus: guest.numCPU ?? 1,
    firmware: firmware(guest.firmware),
    disks,
    cdroms,
    nics,
    close: async () => {},
  };
}

function nic(d: Device): SourceNic {
  const b = d['backing'] ?? {};
  const network = b['deviceName'] ?? b['port']?.['portgroupKey'] ?? d['deviceInfo']?.['summary'] ?? 'VM Network';
  const model = nicModel(String(d['@type']).replace(/^Virtual/, ''));
  return { mac: String(d['macAddress']), network: String(network), vnetType: 'network', ...(model ? { model } : {}) };
}

function firmware(value: string | undefined): Firmware {
  return value === 'efi' ? 'uefi' : 'bios';
}
