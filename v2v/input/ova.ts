/**
 * `-i ova FILE.ova` (a tar, read in place) or `-i ova DIR` (unpacked): the one `.ovf`
 * descriptor, its manifest checked first (every `.mf` line, streamed from inside the tar),
 * then the guest's hardware from the OVF and its disks as the members References names.
 * A disk inside the tar opens as a window of the tar file (`openDiskOn`); a gzip-compressed
 * OVA, or member (`ovf:compression="gzip"`), is unpacked to a temporary file first.
 */
import { join, posix } from 'node:path';
import { openDisk, openDiskOn } from '../../disk/open.js';
import type { Source, SourceDisk } from '../types.js';
import { InputError } from './errors.js';
import { gunzipTo } from './gunzip.js';
import { checkManifest, parseManifest } from './manifest.js';
import { nameFromDisk } from './name.js';
import type { InputOptions } from './options.js';
import { openOvaFiles, type OvaFiles } from './ova-files.js';
import { parseOvf, type OvfDisk } from './ovf.js';
import { MAX_METADATA_BYTES, metadataText } from './text-file.js';

export async function ovaInput(args: string[], opts: InputOptions): Promise<Source> {
  if (args.length !== 1) throw new InputError('-i ova', 'expecting one OVA file or directory on the command line');
  const files = await openOvaFiles(args[0]!);
  try {
    return await readOva(files, opts);
  } catch (e) {
    await files.close();
    throw e;
  }
}

async function readOva(files: OvaFiles, opts: InputOptions): Promise<Source> {
  const ovfs = files.names.filter((n) => /\.ovf$/i.test(n));
  if (ovfs.length !== 1) throw new InputError(files.path, ovfs.length === 0 ? 'no .ovf descriptor in the OVA' : `more than one .ovf descriptor in the OVA: ${ovfs.join(', ')}`);
  const ovfName = ovfs[0]!;
  const dir = posix.dirname(ovfName);
  const member = (href: string) => (dir === '.' ? href : `${dir}/${href}`);

  for (const mf of files.names.filter((n) => /\.mf$/i.test(n))) {
    const shown = `${files.path} (${mf})`;
    const lines = parseManifest(await readText(files, mf, 'manifest'), shown, opts.warn);
    opts.debug?.(`${shown}: checking ${lines.length} digests`);
    await checkManifest(lines, shown, (name) => files.open(member(name)));
  }

  const ovf = await parseOvf(await readText(files, ovfName, 'OVF'), `${files.path} (${ovfName})`, opts.warn);
  const disks = ovf.disks.map((d, i) => ovaDisk(files, member(d.href), d, i));
  return {
    name: ovf.name ?? nameFromDisk(files.path),
    memory: ovf.memory,
    vcpus: ovf.vcpus,
    firmware: ovf.firmware,
    disks,
    cdroms: ovf.cdroms,
    nics: ovf.nics,
    close: () => files.close(),
  };
}

async function readText(files: OvaFiles, name: string, what: string): Promise<string> {
  const shown = `${files.path} (${name})`;
  const dev = (await files.open(name))!;
  try {
    if (dev.size > BigInt(MAX_METADATA_BYTES)) throw new InputError(shown, `${dev.size} bytes is too large for an ${what} file (at most ${MAX_METADATA_BYTES})`);
    return metadataText(await dev.read(0n, Number(dev.size)), shown, what);
  } finally {
    await dev.close();
  }
}

function ovaDisk(files: OvaFiles, name: string, d: OvfDisk, index: number): SourceDisk {
  const shown = `${files.path} (${name})`;
  if (!files.names.includes(name)) throw new InputError(files.path, `the OVF names disk file "${d.href}", which is not in the OVA`);
  if (d.compression && d.compression !== 'gzip') throw new InputError(shown, `is ${d.compression}-compressed (ovf:compression="${d.compression}"): not supported; export the OVA without compression`);
  if (d.compression) {
    // Unpacked once, however often the disk is opened.
    let unpacked: Promise<string> | undefined;
    const unpack = async () => {
      const path = join(await files.temp.path(), `disk${index}`);
      const packed = (await files.open(name))!;
      try {
        await gunzipTo(packed, path, shown);
      } finally {
        await packed.close();
      }
      return path;
    };
    const open = async () => openDisk(await (unpacked ??= unpack()), d.format ? { format: d.format } : {});
    return { name: shown, open, ...(d.bus ? { bus: d.bus } : {}) };
  }
  const host = files.hostPath(name);
  const open = host
    ? () => openDisk(host, d.format ? { format: d.format } : {})
    : async () => openDiskOn((await files.open(name))!, shown, d.format ? { format: d.format } : {});
  return { name: host ?? shown, open, ...(d.bus ? { bus: d.bus } : {}) };
}
