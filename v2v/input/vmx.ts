/**
 * `-i vmx FILE.vmx`: a VMware guest's configuration and the VMDKs it names, as libguestfs's
 * parse_domain_from_vmx.ml reads them: memsize (MiB, 32 when absent), numvcpus, firmware
 * ("efi"), disks on scsi/sata/nvme/ide controllers in that order then by controller and unit,
 * CD-ROMs, ethernetN NICs by port. Disks are opened as VMDK (the format is given, so a
 * snapshot delta's parent disks are followed); relative names resolve next to the VMX.
 */
import { access, constants } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { openDisk } from '../../disk/open.js';
import type { Firmware, Source, SourceBus, SourceCdrom, SourceDisk, SourceNic } from '../types.js';
import { cdromBus } from './cdrom-bus.js';
import { InputError } from './errors.js';
import { nameFromDisk } from './name.js';
import { nicModel } from './nic-model.js';
import type { InputOptions } from './options.js';
import { readMetadataFile } from './text-file.js';
import { parseVmx, type Vmx } from './vmx-parse.js';

const BUSES = ['scsi', 'sata', 'nvme', 'ide'] as const;
const DEVICE = /^(scsi|sata|nvme|ide)(\d{1,4}):(\d{1,4})$/;
const ETHERNET = /^ethernet(\d{1,4})$/;
const DISK_TYPES = new Set(['disk', 'plaindisk', 'rawdisk', 'scsi-harddisk', 'ata-harddisk']);
const CDROM_TYPES = new Set(['cdrom-image', 'atapi-cdrom', 'cdrom-raw']);
const BUS_OF: Record<(typeof BUSES)[number], SourceBus> = { scsi: 'scsi', sata: 'sata', nvme: 'nvme', ide: 'ide' };
const MAX_VCPUS = 4096;

interface Device {
  ns: string;
  bus: (typeof BUSES)[number];
  controller: number;
  unit: number;
}

export async function vmxInput(args: string[], opts: InputOptions): Promise<Source> {
  if (args.length !== 1) throw new InputError('-i vmx', 'expecting one VMX file on the command line');
  const file = args[0]!;
  const vmx = parseVmx(await readMetadataFile(file, 'VMX'), file, opts.warn);
  const get = (key: string) => vmx.get(key.toLowerCase());

  let name = get('displayName');
  if (name === undefined) {
    opts.warn(`${file}: no displayName key found in the VMX file`);
    name = nameFromDisk(file);
  }
  const devices = namespaces(vmx, DEVICE).map(([ns, m]): Device => ({ ns, bus: m[1] as Device['bus'], controller: Number(m[2]), unit: Number(m[3]) }));
  devices.sort((a, b) => BUSES.indexOf(a.bus) - BUSES.indexOf(b.bus) || a.controller - b.controller || a.unit - b.unit);

  const disks: SourceDisk[] = [];
  const cdroms: SourceCdrom[] = [];
  for (const d of devices) {
    const type = get(`${d.ns}.deviceType`)?.toLowerCase();
    const fileName = get(`${d.ns}.fileName`);
    if (type !== undefined && CDROM_TYPES.has(type)) {
      cdroms.push({ bus: cdromBus(BUS_OF[d.bus], 'sata'), ...(type === 'cdrom-image' && fileName ? { image: fileName } : {}) });
    } else if ((type === undefined || DISK_TYPES.has(type)) && fileName !== undefined) {
      disks.push(await vmxDisk(file, d, fileName));
    } else if (type !== undefined) {
      opts.debug?.(`${file}: ${d.ns} has deviceType "${type}": not a disk or CD-ROM, skipped`);
    }
  }

  return {
    name,
    memory: memory(file, get('memsize')),
    vcpus: vcpus(file, get('numvcpus')),
    firmware: firmware(get('firmware'), file, opts.warn),
    disks,
    cdroms,
    nics: namespaces(vmx, ETHERNET)
      .sort((a, b) => Number(a[1][1]) - Number(b[1][1]))
      .map(([ns]) => nic(ns, get)),
    close: async () => {},
  };
}

/** The device namespaces ("scsi0:1", "ethernet0") holding any key, with their regex match. */
function namespaces(vmx: Vmx, pattern: RegExp): [string, RegExpExecArray][] {
  const found = new Map<string, RegExpExecArray>();
  for (const key of vmx.keys()) {
    const ns = key.slice(0, key.indexOf('.'));
    const m = found.has(ns) ? undefined : pattern.exec(ns);
    if (m) found.set(ns, m);
  }
  return [...found];
}

async function vmxDisk(file: string, d: Device, fileName: string): Promise<SourceDisk> {
  const path = isAbsolute(fileName) ? fileName : resolve(dirname(file), fileName);
  try {
    await access(path, constants.R_OK);
  } catch (e) {
    throw new InputError(file, `${d.ns}.fileName "${fileName}": cannot read the disk: ${(e as Error).message}`);
  }
  const bus = BUS_OF[d.bus];
  return { name: path, open: () => openDisk(path, { format: 'vmdk' }), ...(bus ? { bus } : {}) };
}

function memory(file: string, memsize: string | undefined): bigint {
  if (memsize === undefined) return 32n << 20n; // VMware's default really is 32 MiB
  if (!/^\d{1,9}$/.test(memsize)) throw new InputError(file, `memsize "${memsize}" is not a number of MiB`);
  return BigInt(memsize) << 20n;
}

function vcpus(file: string, numvcpus: string | undefined): number {
  if (numvcpus === undefined) return 1;
  const n = /^\d{1,5}$/.test(numvcpus) ? Number(numvcpus) : 0;
  if (n < 1 || n > MAX_VCPUS) throw new InputError(file, `numvcpus "${numvcpus}" is not a number of vCPUs from 1 to ${MAX_VCPUS}`);
  return n;
}

function firmware(value: string | undefined, file: string, warn: (m: string) => void): Firmware {
  if (value === undefined || value.toLowerCase() === 'bios') return 'bios';
  if (value.toLowerCase() === 'efi') return 'uefi';
  warn(`${file}: unknown firmware value "${value}", assuming BIOS`);
  return 'bios';
}

function nic(ns: string, get: (key: string) => string | undefined): SourceNic {
  // A static MAC is in "address"; a generated one in "generatedAddress".
  const mac = get(`${ns}.addressType`)?.toLowerCase() === 'static' ? get(`${ns}.address`) : (get(`${ns}.generatedAddress`) ?? get(`${ns}.address`));
  const model = nicModel(get(`${ns}.virtualDev`));
  return {
    ...(mac ? { mac } : {}),
    network: get(`${ns}.networkName`) ?? ns,
    vnetType: get(`${ns}.connectionType`)?.toLowerCase() === 'bridged' ? 'bridge' : 'network',
    ...(model ? { model } : {}),
  };
}
