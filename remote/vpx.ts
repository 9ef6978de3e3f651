/**
 * `vpx://user@vcenter/Datacenter/host/esxi?no_verify=1` plus a guest name → the guest's disks
 * as vCenter `/folder` URLs, through the vSphere SOAP API as virt-v2v's vCenter input does:
 * RetrieveServiceContent, Login (the `vmware_soap_session` cookie then also opens the
 * datastore files), FindByInventoryPath for `<dc>/vm/<guest>`, and RetrievePropertiesEx of
 * `config.hardware.device` for the VirtualDisk backings (plus memory, CPUs and firmware, which
 * virt-v2v's -ic vpx:// input reports). Snapshot deltas resolve to their
 * base disk. undici, tough-cookie and fast-xml-parser load only when this is used.
 */
import { readFile } from 'node:fs/promises';
import type { Dispatcher } from 'undici';
import type { CookieJar } from 'tough-cookie';
import { readPassword, type PasswordSource } from './password.js';

export interface VpxOptions extends PasswordSource {
  /** Verify TLS (default: true unless the URL says `no_verify=1`). */
  verify?: boolean;
  /** PEM file of CA certificates to trust. */
  caFile?: string;
}

export interface VpxDisk {
  /** The datastore path vCenter names ("[datastore1] vm/vm.vmdk"), after snapshot deltas. */
  datastorePath: string;
  /** Delta disks on the way down, newest first (empty without snapshots). */
  deltas: string[];
  capacity: bigint;
  /** `https://server/folder/<dir>/<name>-flat.vmdk?dcPath=..&dsName=..` */
  url: string;
}

export interface VpxGuest {
  name: string;
  disks: VpxDisk[];
  /** The VM's `config.hardware.device` as parsed (controllers, NICs, CD-ROMs for virt-v2v). */
  devices: Record<string, any>[];
  /** `config.hardware.memoryMB`, `config.hardware.numCPU`, `config.firmware` ("bios", "efi"). */
  memoryMB?: number;
  numCPU?: number;
  firmware?: string;
  /** The session's Cookie header: datastore reads use it instead of logging in again. */
  cookie: string;
  /** Who logged in: datastore reads renew an expired session with basic auth as this user. */
  user: string;
  verify: boolean;
}

export class VpxError extends Error {}

interface VpxTarget {
  server: string;
  user: string;
  dcPath: string;
  verify: boolean;
}

/** Split a vpx:// URL: the datacenter path is everything before `/host/` (it may hold folders). */
export function parseVpxUrl(vpx: string): VpxTarget {
  let u: URL;
  try {
    u = new URL(vpx);
  } catch {
    throw new VpxError(`not a valid vpx:// URL`);
  }
  if (u.protocol !== 'vpx:') throw new VpxError(`${u.protocol}// is not vpx://`);
  if (u.password) throw new VpxError('a password in the vpx:// URL would show in process listings; use -ip/--password-file FILE');
  const path = decodeURIComponent(u.pathname).replace(/^\/+/, '');
  const dcPath = path.split('/host/')[0]!.replace(/\/+$/, '');
  if (!dcPath) throw new VpxError(`vpx://${u.host}${u.pathname}: no datacenter in the path (vpx://user@server/Datacenter/host/esxi)`);
  return {
    server: u.host,
    user: decodeURIComponent(u.username || 'administrator@vsphere.local'),
    dcPath,
    verify: u.searchParams.get('no_verify') !== '1',
  };
}

/** `[ds] dir/name.vmdk` → its `-flat.vmdk` URL under `/folder`, each part quoted. */
export function folderUrl(server: string, dcPath: string, datastorePath: string): string {
  const m = /^\[([^\]]+)\] ?(.+)$/.exec(datastorePath);
  if (!m) throw new VpxError(`datastore path "${datastorePath}" is not "[datastore] path"`);
  const file = m[2]!.replace(/\.vmdk$/, '-flat.vmdk');
  const quote = (s: string) => encodeURIComponent(s).replace(/%2F/g, '/');
  return `https://${server}/folder/${quote(file)}?dcPath=${quote(dcPath)}&dsName=${quote(m[1]!)}`;
}

export async function resolveVpxGuest(vpx: string, guest: string, opts: VpxOptions = {}): Promise<VpxGuest> {
  const target = parseVpxUrl(vpx);
  const verify = opts.verify ?? target.verify;
  const [{ Agent, request }, { CookieJar }, parser] = await Promise.all([import('undici'), import('tough-cookie'), soapParser()]);
  const ca = opts.caFile === undefined ? undefined : await readFile(opts.caFile);
  const dispatcher = new Agent({ connect: { rejectUnauthorized: verify, ...(ca ? { ca } : {}) } });
  const jar = new CookieJar();
  const sdk = `https://${target.server}/sdk`;
  const call = (body: string) => soap(sdk, body, { request, dispatcher, jar, parser });
  try {
    const sc = (await call(`<RetrieveServiceContent xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this></RetrieveServiceContent>`))['RetrieveServiceContentResponse'].returnval;
    const password = await readPassword(opts, target.user, target.server);
    if (password === undefined) throw new VpxError(`vCenter ${target.server} needs the password of ${target.user}: give --password-file FILE (or -ip FILE) or set GUESTKIT_PASSWORD`);
    await call(
      `<Login xmlns="urn:vim25">${ref('_this', sc.sessionManager)}<userName>${xml(target.user)}</userName><password>${xml(password)}</password></Login>`,
    ).catch((e: Error) => {
      throw new VpxError(`vCenter ${target.server}: login as ${target.user} failed: ${e.message}`);
    });
    const inventory = `${target.dcPath}/vm/${guest}`;
    const found = (await call(`<FindByInventoryPath xmlns="urn:vim25">${ref('_this', sc.searchIndex)}<inventoryPath>${xml(inventory)}</inventoryPath></FindByInventoryPath>`))['FindByInventoryPathResponse'];
    const vm = found?.returnval;
    if (!vm) throw new VpxError(`vCenter ${target.server}: no guest "${guest}" at ${inventory} (a guest in a VM folder is named folder/guest)`);
    const props = await call(
      `<RetrievePropertiesEx xmlns="urn:vim25">${ref('_this', sc.propertyCollector)}<specSet><propSet><type>VirtualMachine</type><pathSet>config.hardware.device</pathSet><pathSet>config.hardware.memoryMB</pathSet><pathSet>config.hardware.numCPU</pathSet><pathSet>config.firmware</pathSet></propSet><objectSet>${ref('obj', vm)}</objectSet></specSet><options/></RetrievePropertiesEx>`,
    );
    // One propSet per property asked for (the parser gives a lone one as an object).
    const sets: Record<string, any>[] = [props['RetrievePropertiesExResponse']?.returnval?.objects?.[0]?.propSet ?? []].flat();
    const prop = (name: string) => sets.find((p) => p.name === name)?.val;
    const devices = prop('config.hardware.device')?.VirtualDevice ?? [];
    const disks = vpxDisks(devices, target.server, target.dcPath, guest);
    if (disks.length === 0) throw new VpxError(`vCenter ${target.server}: guest "${guest}" has no virtual disks`);
    const number = (v: unknown) => (v === undefined || v === '' ? undefined : Number(typeof v === 'object' ? (v as Record<string, unknown>)['#text'] : v));
    const firmware = prop('config.firmware');
    return {
      name: guest,
      disks,
      devices,
      memoryMB: number(prop('config.hardware.memoryMB')),
      numCPU: number(prop('config.hardware.numCPU')),
      firmware: typeof firmware === 'object' ? firmware?.['#text'] : firmware,
      cookie: await jar.getCookieString(sdk),
      user: target.user,
      verify,
    };
  } finally {
    await dispatcher.close();
  }
}

/**
 * The VirtualDisk devices of a parsed `config.hardware.device` as URLs. A disk whose backing
 * has a `parent` is a snapshot delta; the chain is followed to the base disk, whose flat
 * file holds the disk as it was when the first snapshot was taken.
 */
export function vpxDisks(devices: Record<string, any>[], server: string, dcPath: string, guest: string): VpxDisk[] {
  const disks: VpxDisk[] = [];
  for (const d of devices) {
    if (d['@type'] !== 'VirtualDisk') continue;
    const chain: string[] = [];
    for (let b = d['backing']; b; b = b.parent) {
      if (typeof b.fileName !== 'string') throw new VpxError(`vCenter ${server}: guest "${guest}" has a disk with no file name`);
      if (chain.length >= 64) throw new VpxError(`vCenter ${server}: guest "${guest}": snapshot chain deeper than 64`);
      chain.push(b.fileName);
    }
    const base = chain.pop();
    if (base === undefined) continue;
    const capacity = d['capacityInBytes'] !== undefined ? BigInt(d['capacityInBytes']) : BigInt(d['capacityInKB'] ?? 0) * 1024n;
    disks.push({ datastorePath: base, deltas: chain, capacity, url: folderUrl(server, dcPath, base) });
  }
  return disks;
}

/** The parser for vSphere SOAP answers: namespaces dropped, attributes as `@name`. */
export async function soapParser(): Promise<import('fast-xml-parser').XMLParser> {
  const { XMLParser } = await import('fast-xml-parser');
  return new XMLParser({ ignoreAttributes: false, removeNSPrefix: true, attributeNamePrefix: '@', isArray: (name) => name === 'VirtualDevice' || name === 'objects' });
}

interface SoapDeps {
  request: typeof import('undici').request;
  dispatcher: Dispatcher;
  jar: CookieJar;
  parser: import('fast-xml-parser').XMLParser;
}

/** One SOAP call; a SOAP fault becomes an error carrying its faultstring (never the request). */
async function soap(sdk: string, body: string, d: SoapDeps): Promise<Record<string, any>> {
  const envelope = `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`;
  const cookie = await d.jar.getCookieString(sdk);
  let res: Dispatcher.ResponseData;
  try {
    res = await d.request(sdk, {
      method: 'POST',
      dispatcher: d.dispatcher,
      headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: '"urn:vim25/6.5"', ...(cookie ? { cookie } : {}) },
      body: envelope,
      headersTimeout: 60_000,
      bodyTimeout: 60_000,
    });
  } catch (e) {
    const err = e as Error & { cause?: Error; code?: string };
    throw new VpxError(`vCenter ${new URL(sdk).host}: ${err.cause?.message ?? err.message}${/certificate|self.signed/i.test(err.cause?.message ?? err.message) ? ' (pass ?no_verify=1 or --cacert FILE for a self-signed vCenter)' : ''}`);
  }
  for (const c of [res.headers['set-cookie'] ?? []].flat()) await d.jar.setCookie(c, sdk, { ignoreError: true });
  const text = await res.body.text();
  if (text.length > 64 << 20) throw new VpxError(`vCenter ${new URL(sdk).host}: SOAP answer over 64 MiB`);
  const doc = d.parser.parse(text) as Record<string, any>;
  const bodyEl = doc['Envelope']?.['Body'];
  if (!bodyEl) throw new VpxError(`vCenter ${new URL(sdk).host}: HTTP ${res.statusCode}, not a SOAP answer`);
  if (bodyEl['Fault']) throw new VpxError(String(bodyEl['Fault'].faultstring ?? 'SOAP fault'));
  return bodyEl;
}

/** A managed object reference element from a parsed `<x type="T">id</x>`. */
function ref(tag: string, mo: { '#text': string; '@type': string }): string {
  return `<${tag} type="${xml(mo['@type'])}">${xml(String(mo['#text']))}</${tag}>`;
}

function xml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
