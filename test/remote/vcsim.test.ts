/**
 * VMware's vCenter simulator (govmomi vcsim, built from Debian's packages by test/remote/vcsim/): the vpx:// lookup through its
 * SOAP API, and datastore reads with the session cookie over TLS verified against its CA, through
 * the read rings (remote/read-ring.ts) even when the reader pauses.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { prng } from '../../disk/filters/prng.js';
import { openRemote } from '../../remote/open.js';
import { folderUrl, parseVpxUrl, resolveVpxGuest, soapParser, vpxDisks } from '../../remote/vpx.js';
import { run } from '../fixtures/run.js';
import { tool, toolStatus } from '../e2e/tools.js';
import { guestImages, type GuestImages } from './images.js';
import { readPaused } from './paused-reader.js';
import { freePort } from './nginx.js';

/** The simulator's build-and-start scripts, kept beside this test's source (dist/ holds only compiled code). */
const VCSIM = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'remote', 'vcsim');
const HOME = '/tmp/guestkit-vcsim-remote';
let env: Record<string, string>;
let imgs: GuestImages;
let work: string;
let pwFile: string;
let vcEnv: NodeJS.ProcessEnv;

before(async () => {
  imgs = await guestImages();
  vcEnv = { ...process.env, VCSIM_HOME: HOME, VCSIM_PORT: String(await freePort()) };
  const envFile = (await run(join(VCSIM, 'start-vcsim.sh'), ['-autostart=false'], { env: vcEnv })).trim().split('\n').pop()!;
  env = Object.fromEntries(
    (await readFile(envFile, 'utf8'))
      .split('\n')
      .map((l) => /^(\w+)='(.*)'$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1]!, m[2]!]),
  );
  const vmDir = (await run(join(VCSIM, 'seed-vm.sh'), ['DC0_H0_VM0', '40M'], { env: vcEnv })).trim();
  await copyFile(imgs.raw, join(vmDir, 'disk1-flat.vmdk'));
  work = await mkdtemp(join(tmpdir(), 'guestkit-vcsim-'));
  pwFile = join(work, 'pw');
  await writeFile(pwFile, 'any-password\n');
});

after(async () => {
  if (vcEnv) await run(join(VCSIM, 'start-vcsim.sh'), ['stop'], { env: vcEnv });
  if (work) await rm(work, { recursive: true, force: true });
});

test('vpx:// finds the guest through SOAP; its flat disk reads with the session cookie, TLS verified by the CA file', async () => {
  const host = env['VCSIM_HOSTPORT']!;
  const g = await resolveVpxGuest(`vpx://user@${host}/DC0/host/DC0_H0`, 'DC0_H0_VM0', { passwordFile: pwFile, caFile: env['VCSIM_CA_FILE'] });
  assert.equal(g.disks.length, 1);
  const d = g.disks[0]!;
  assert.equal(d.datastorePath, '[LocalDS_0] DC0_H0_VM0/disk1.vmdk');
  assert.equal(d.url, `https://${host}/folder/DC0_H0_VM0/disk1-flat.vmdk?dcPath=DC0&dsName=LocalDS_0`);
  assert.match(g.cookie, /^vmware_soap_session=/);
  const dev = await openRemote(d.url, { cookie: g.cookie, caFile: env['VCSIM_CA_FILE'] });
  try {
    const local = await readFile(imgs.raw);
    assert.equal(dev.size, BigInt(local.length));
    for (const at of [0, 1 << 20, 20 << 20, local.length - 65536]) assert.deepEqual(await dev.read(BigInt(at), 65536), local.subarray(at, at + 65536));
    // The whole disk as a copy reads it, with small reads elsewhere meanwhile, as inspection
    // makes: the TLS connections' decrypted bytes go through the read rings.
    const copy = async () => {
      const buf = Buffer.alloc(1 << 20);
      for (let at = 0; at < local.length; at += buf.length) {
        const part = buf.subarray(0, Math.min(buf.length, local.length - at));
        await dev.readInto(BigInt(at), part);
        assert.ok(part.equals(local.subarray(at, at + part.length)), `bytes at ${at}`);
      }
    };
    const rng = prng(11);
    const random = async () => {
      for (let i = 0; i < 60; i++) {
        const at = Math.floor(rng() * (local.length - 70_000));
        const n = 1 + Math.floor(rng() * 70_000);
        assert.ok((await dev.read(BigInt(at), n)).equals(local.subarray(at, at + n)), `${n} bytes at ${at}`);
      }
    };
    await Promise.all([copy(), random()]);
    assert.ok(dev.http.rings.laps >= 8, `${dev.http.rings.laps} laps`);
    assert.equal(dev.http.stats.renewals, 0);
  } finally {
    await dev.close();
  }
});

test('over TLS too, a read ring never overwrites bytes a paused reader has not taken yet', async () => {
  const [hostname, port] = env['VCSIM_HOSTPORT']!.split(':') as [string, string];
  const auth = Buffer.from('user:any-password').toString('base64');
  const get = `GET /folder/DC0_H0_VM0/disk1-flat.vmdk?dcPath=DC0&dsName=LocalDS_0 HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Basic ${auth}\r\nConnection: close\r\n\r\n`;
  const { bytes, counts } = await readPaused({ ca: [await readFile(env['VCSIM_CA_FILE']!)] }, { hostname, port, protocol: 'https:' }, get);
  const body = bytes.indexOf('\r\n\r\n') + 4;
  assert.match(bytes.subarray(0, body).toString('latin1'), /^HTTP\/1\.1 200 /);
  assert.ok(bytes.subarray(body).equals(await readFile(imgs.raw)), 'the body is the disk');
  assert.ok(counts.laps >= 8, `${counts.laps} laps`);
});

test('the tools read the datastore URL (basic auth, then the cookie); without the CA the certificate is refused', async () => {
  const url = `https://user@${env['VCSIM_HOSTPORT']}/folder/DC0_H0_VM0/disk1-flat.vmdk?dcPath=DC0&dsName=LocalDS_0`;
  const args = ['--password-file', pwFile, '-a', url, '-m', '/dev/sda1', '/etc/hostname'];
  assert.equal(await tool('virt-cat', ['--cacert', env['VCSIM_CA_FILE']!, ...args]), 'remote-guest\n');
  const unverified = await toolStatus('virt-cat', args);
  assert.equal(unverified.code, 1);
  assert.match(unverified.stderr, /^virt-cat: https:\/\/127\.0\.0\.1:\d+\/folder\/DC0_H0_VM0\/disk1-flat\.vmdk\?dcPath=DC0&dsName=LocalDS_0: HEAD: .*certificate.*\(give the CA with --cacert FILE, or --no-verify for a self-signed server\)\n$/);
  assert.equal(await tool('virt-cat', ['--no-verify', ...args]), 'remote-guest\n');
  const lookup = await resolveVpxGuest(`vpx://user@${env['VCSIM_HOSTPORT']}/DC0/host/DC0_H0`, 'DC0_H0_VM0', { passwordFile: pwFile }).catch((e: Error) => e);
  assert.ok(lookup instanceof Error && /certificate.*no_verify=1 or --cacert/i.test(lookup.message), String(lookup));
});

test('an unknown guest is named in the error', async () => {
  await assert.rejects(
    resolveVpxGuest(`vpx://user@${env['VCSIM_HOSTPORT']}/DC0/host/DC0_H0?no_verify=1`, 'no-such-vm', { passwordFile: pwFile }),
    /no guest "no-such-vm" at DC0\/vm\/no-such-vm/,
  );
});

test('datacenter paths, datastore names and file names are quoted; snapshot deltas resolve to the base disk', async () => {
  const t = parseVpxUrl('vpx://root%40vsphere.local@vc.example:8443/Folder%20A/DC%201/host/Cluster/esxi1?no_verify=1');
  assert.deepEqual(t, { server: 'vc.example:8443', user: 'root@vsphere.local', dcPath: 'Folder A/DC 1', verify: false });
  assert.equal(
    folderUrl(t.server, t.dcPath, '[datastore 1 (ssd)] my vm/my vm#2&.vmdk'),
    'https://vc.example:8443/folder/my%20vm/my%20vm%232%26-flat.vmdk?dcPath=Folder%20A/DC%201&dsName=datastore%201%20(ssd)',
  );
  assert.throws(() => parseVpxUrl('vpx://u:secret@vc/DC/host/h'), (e: Error) => /password in the vpx:\/\/ URL/.test(e.message) && !e.message.includes('secret'));
  // A snapshot delta as vSphere returns it: the backing's parent chain down to the base.
  const xml = `<Envelope><Body><RetrievePropertiesExResponse><returnval><objects><propSet><val>
    <VirtualDevice type="VirtualDisk"><backing type="VirtualDiskFlatVer2BackingInfo">
      <fileName>[ds1] vm/vm-000002.vmdk</fileName>
      <parent><fileName>[ds1] vm/vm-000001.vmdk</fileName><parent><fileName>[ds1] vm/vm.vmdk</fileName></parent></parent>
    </backing><capacityInKB>2048</capacityInKB></VirtualDevice>
    <VirtualDevice type="VirtualCdrom"><backing><fileName>[ds1] iso/x.iso</fileName></backing></VirtualDevice>
  </val></propSet></objects></returnval></RetrievePropertiesExResponse></Body></Envelope>`.replace(/ type=/g, ' xsi:type=');
  const parsed = (await soapParser()).parse(xml);
  const devices = parsed.Envelope.Body.RetrievePropertiesExResponse.returnval.objects[0].propSet.val.VirtualDevice;
  assert.deepEqual(vpxDisks(devices, 'vc', 'DC', 'vm'), [
    { datastorePath: '[ds1] vm/vm.vmdk', deltas: ['[ds1] vm/vm-000002.vmdk', '[ds1] vm/vm-000001.vmdk'], capacity: 2097152n, url: 'https://vc/folder/vm/vm-flat.vmdk?dcPath=DC&dsName=ds1' },
  ]);
});
