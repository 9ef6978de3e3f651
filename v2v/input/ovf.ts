/**
 * An OVF descriptor as VMware (and VirtualBox) export it, read as libguestfs's OVF.ml does:
 * the VirtualSystem's Name, its VirtualHardwareSection Items (ResourceType 3 CPUs, 4 memory
 * with AllocationUnits, 5/6/20 controllers, 17 disks, 15/16 CD/DVD drives, 10 NICs), the
 * firmware from `vmw:Config key="firmware"`, and each disk's file through DiskSection and
 * References.
 */
import type { DiskBus, Firmware, SourceCdrom, SourceNic } from '../types.js';
import { InputError } from './errors.js';
import { nicModel } from './nic-model.js';
import { parseXml, xmlText, type XmlNode } from './xml.js';

export interface OvfDisk {
  /** The file in the OVA (References/File href). */
  href: string;
  /** "vmdk" when DiskSection says so (streamOptimized and the like); otherwise probed. */
  format?: string;
  /** References/File compression ("gzip"), when any. */
  compression?: string;
  bus?: DiskBus;
}

export interface OvfGuest {
  name?: string;
  memory: bigint;
  vcpus: number;
  firmware: Firmware;
  disks: OvfDisk[];
  cdroms: SourceCdrom[];
  nics: SourceNic[];
}

const RT = { cpu: '3', memory: '4', ide: '5', scsi: '6', ethernet: '10', cd: '15', dvd: '16', disk: '17', other: '20' };

export async function parseOvf(text: string, file: string, warn: (m: string) => void): Promise<OvfGuest> {
  const doc = await parseXml(text, file, ['File', 'Disk', 'Item', 'Config', 'VirtualSystem']);
  const env = doc['Envelope'] as XmlNode | undefined;
  const vs = (env?.['VirtualSystem'] as XmlNode[] | undefined)?.[0];
  if (!env || !vs) throw new InputError(file, 'not an OVF descriptor: no Envelope/VirtualSystem');
  const hw = (vs['VirtualHardwareSection'] ?? {}) as XmlNode;
  const items = ((hw['Item'] ?? []) as XmlNode[]).map((i) => ({ ...i, type: xmlText(i['ResourceType']), id: xmlText(i['InstanceID']) }));
  const value = (i: XmlNode | undefined, key: string) => (i ? xmlText(i[key]) : undefined);

  const cpu = items.find((i) => i.type === RT.cpu);
  const mem = items.find((i) => i.type === RT.memory);
  const files = new Map(((env['References']?.['File'] ?? []) as XmlNode[]).map((f) => [f['@id'] as string, f]));
  const diskSection = new Map(((env['DiskSection']?.['Disk'] ?? []) as XmlNode[]).map((d) => [d['@diskId'] as string, d]));
  const controllers = new Map(items.filter((i) => [RT.ide, RT.scsi, RT.other].includes(i.type ?? '')).map((c, n) => [c.id, { bus: busOf(c.type!, value(c, 'ResourceSubType')), n }]));
  const controllerOf = (i: XmlNode) => controllers.get(value(i, 'Parent'));

  const disks = items
    .filter((i) => i.type === RT.disk)
    .map((i) => ({ i, c: controllerOf(i), address: Number(value(i, 'AddressOnParent') ?? 0) }))
    .sort((a, b) => (a.c?.n ?? 0) - (b.c?.n ?? 0) || a.address - b.address)
    .map(({ i, c }): OvfDisk => {
      const host = value(i, 'HostResource') ?? '';
      const ref = /^ovf:\/disk\/(.+)$/.exec(host)?.[1];
      const disk = ref === undefined ? undefined : diskSection.get(ref);
      const fileId = disk ? (disk['@fileRef'] as string | undefined) : /^ovf:\/file\/(.+)$/.exec(host)?.[1];
      const f = fileId === undefined ? undefined : files.get(fileId);
      if (!f || typeof f['@href'] !== 'string') throw new InputError(file, `disk Item ${i.id} (HostResource "${host}") names no file in References`);
      const format = /vmdk/i.test(String(disk?.['@format'] ?? f['@href'])) ? 'vmdk' : undefined;
      return { href: f['@href'], ...(format ? { format } : {}), ...(f['@compression'] ? { compression: f['@compression'] } : {}), ...(c?.bus ? { bus: c.bus } : {}) };
    });

  const cdroms = items.filter((i) => i.type === RT.cd || i.type === RT.dvd).map((i): SourceCdrom => ({ bus: controllerOf(i)?.bus ?? 'ide' }));
  const nics = items
    .filter((i) => i.type === RT.ethernet)
    .map((i): SourceNic => {
      const mac = value(i, 'Address');
      const model = nicModel(value(i, 'ResourceSubType'));
      return { ...(mac ? { mac } : {}), network: value(i, 'Connection') ?? 'VM Network', vnetType: 'network', ...(model ? { model } : {}) };
    });

  const name = xmlText(vs['Name']) || (vs['@id'] as string | undefined);
  return {
    ...(name ? { name } : {}),
    memory: mem ? memory(file, value(mem, 'VirtualQuantity'), value(mem, 'AllocationUnits')) : 1n << 30n,
    vcpus: cpu ? vcpus(file, value(cpu, 'VirtualQuantity')) : 1,
    firmware: firmware(hw, file, warn),
    disks,
    cdroms,
    nics,
  };
}

function busOf(type: string, subtype: string | undefined): DiskBus | undefined {
  if (type === RT.ide) return 'ide';
  if (type === RT.scsi) return 'scsi';
  return /sata|ahci/i.test(subtype ?? '') ? 'sata' : undefined; // NVMe has no DiskBus
}

/** "byte * 2^20", "byte * 10^6", "MegaBytes" (VirtualBox), "byte"; MiB when absent. */
function memory(file: string, quantity: string | undefined, units: string | undefined): bigint {
  if (quantity === undefined || !/^\d{1,15}$/.test(quantity)) throw new InputError(file, `memory VirtualQuantity "${quantity ?? ''}" is not a number`);
  const u = (units ?? 'byte * 2^20').replace(/\s+/g, '').toLowerCase();
  const pow = /^byte\*(2|10)\^(\d{1,2})$/.exec(u);
  const scale = pow ? BigInt(pow[1]!) ** BigInt(pow[2]!) : ({ byte: 1n, bytes: 1n, kilobytes: 1n << 10n, megabytes: 1n << 20n, gigabytes: 1n << 30n } as Record<string, bigint>)[u];
  if (scale === undefined) throw new InputError(file, `memory AllocationUnits "${units}" is not understood`);
  return BigInt(quantity) * scale;
}

function vcpus(file: string, quantity: string | undefined): number {
  const n = quantity !== undefined && /^\d{1,5}$/.test(quantity) ? Number(quantity) : 0;
  if (n < 1 || n > 4096) throw new InputError(file, `CPU VirtualQuantity "${quantity ?? ''}" is not a number of vCPUs from 1 to 4096`);
  return n;
}

function firmware(hw: XmlNode, file: string, warn: (m: string) => void): Firmware {
  const config = ((hw['Config'] ?? []) as XmlNode[]).find((c) => c['@key'] === 'firmware');
  const value = config?.['@value'];
  if (value === undefined || value === 'bios') return 'bios';
  if (value === 'efi') return 'uefi';
  warn(`${file}: unknown firmware "${value}", assuming BIOS`);
  return 'bios';
}
