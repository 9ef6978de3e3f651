/**
 * `-i libvirtxml FILE.xml`: a libvirt domain description, as `virsh dumpxml` writes it: name,
 * memory (with its unit), vcpu, firmware (`<os firmware="efi">` or a pflash loader), file and
 * block disks with their driver format and target bus, CD-ROMs, network and bridge interfaces.
 * Relative disk paths resolve next to the XML.
 */
import { access, constants } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { openDisk } from '../../disk/open.js';
import type { DiskBus, Firmware, Source, SourceCdrom, SourceDisk, SourceNic } from '../types.js';
import { InputError } from './errors.js';
import { nicModel } from './nic-model.js';
import type { InputOptions } from './options.js';
import { readMetadataFile } from './text-file.js';
import { parseXml, xmlText, type XmlNode } from './xml.js';

const BUSES = new Set<string>(['ide', 'sata', 'scsi', 'virtio']);
/** libvirt's memory units (virScaleInteger): bare letters are powers of 1024. */
const UNITS: Record<string, bigint> = {
  b: 1n, bytes: 1n,
  kb: 1000n, k: 1024n, kib: 1024n,
  mb: 1000n ** 2n, m: 1024n ** 2n, mib: 1024n ** 2n,
  gb: 1000n ** 3n, g: 1024n ** 3n, gib: 1024n ** 3n,
  tb: 1000n ** 4n, t: 1024n ** 4n, tib: 1024n ** 4n,
};

export async function libvirtXmlInput(args: string[], opts: InputOptions): Promise<Source> {
  if (args.length !== 1) throw new InputError('-i libvirtxml', 'expecting one libvirt XML file on the command line');
  const file = args[0]!;
  const doc = await parseXml(await readMetadataFile(file, 'libvirt XML'), file, ['disk', 'interface']);
  const domain = doc['domain'] as XmlNode | undefined;
  if (!domain || typeof domain !== 'object') throw new InputError(file, 'not a libvirt domain: no <domain> element');
  const name = xmlText(domain['name']);
  if (!name) throw new InputError(file, 'the domain has no <name>');
  const devices = (domain['devices'] ?? {}) as XmlNode;

  const disks: SourceDisk[] = [];
  const cdroms: SourceCdrom[] = [];
  for (const d of (devices['disk'] ?? []) as XmlNode[]) {
    const bus = d['target']?.['@bus'];
    const known = BUSES.has(bus) ? (bus as DiskBus) : undefined;
    const device = d['@device'] ?? 'disk';
    const path = d['source']?.['@file'] ?? d['source']?.['@dev'];
    if (device === 'cdrom') {
      cdroms.push({ bus: known ?? 'sata', ...(path ? { image: path } : {}) });
    } else if (device === 'disk') {
      if (typeof path !== 'string') throw new InputError(file, `disk ${d['target']?.['@dev'] ?? disks.length}: only file and block disks with a <source> can be converted (type="${d['@type']}")`);
      disks.push(await localDisk(file, path, d['driver']?.['@type'], known));
    }
  }

  const nics: SourceNic[] = [];
  for (const i of (devices['interface'] ?? []) as XmlNode[]) {
    const type = i['@type'];
    const network = type === 'network' ? i['source']?.['@network'] : type === 'bridge' ? i['source']?.['@bridge'] : undefined;
    if (typeof network !== 'string') {
      opts.debug?.(`${file}: interface of type "${type}" is neither a network nor a bridge: skipped`);
      continue;
    }
    const mac = i['mac']?.['@address'];
    const model = nicModel(i['model']?.['@type']);
    nics.push({ ...(mac ? { mac } : {}), network, vnetType: type, ...(model ? { model } : {}) });
  }

  return {
    name,
    memory: memory(file, domain['memory']),
    vcpus: vcpus(file, xmlText(domain['vcpu'])),
    firmware: firmware(domain['os']),
    disks,
    cdroms,
    nics,
    close: async () => {},
  };
}

async function localDisk(file: string, name: string, format: string | undefined, bus: DiskBus | undefined): Promise<SourceDisk> {
  const path = isAbsolute(name) ? name : resolve(dirname(file), name);
  try {
    await access(path, constants.R_OK);
  } catch (e) {
    throw new InputError(file, `disk "${name}": cannot read it: ${(e as Error).message}`);
  }
  return { name: path, open: () => openDisk(path, { format }), ...(bus ? { bus } : {}) };
}

function memory(file: string, node: unknown): bigint {
  const value = xmlText(node);
  const unit = ((node as XmlNode | undefined)?.['@unit'] ?? 'KiB').toLowerCase();
  const scale = UNITS[unit];
  if (value === undefined || !/^\d{1,15}$/.test(value) || scale === undefined) throw new InputError(file, `<memory unit="${unit}">${value ?? ''}</memory> is not an amount of memory`);
  return BigInt(value) * scale;
}

function vcpus(file: string, value: string | undefined): number {
  if (value === undefined) return 1;
  const n = /^\d{1,5}$/.test(value) ? Number(value) : 0;
  if (n < 1 || n > 4096) throw new InputError(file, `<vcpu>${value}</vcpu> is not a number of vCPUs from 1 to 4096`);
  return n;
}

function firmware(os: XmlNode | undefined): Firmware {
  if (os?.['@firmware'] === 'efi') return 'uefi';
  return os?.['loader']?.['@type'] === 'pflash' ? 'uefi' : 'bios';
}
