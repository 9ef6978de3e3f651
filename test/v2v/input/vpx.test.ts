/**
 * `-ic vpx://… GUEST` against VMware's vCenter simulator (test/remote/vcsim/): the guest's
 * hardware from its config, its disk read over HTTPS with the session cookie.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { openInput } from '../../../v2v/input/open.js';
import { printSource } from '../../../v2v/input/print.js';
import { run } from '../../fixtures/run.js';
import { guestImages, type GuestImages } from '../../remote/images.js';
import { freePort } from '../../remote/nginx.js';

const VCSIM = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'test', 'remote', 'vcsim');
const HOME = '/tmp/guestkit-vcsim-v2v-input';
let host: string;
let imgs: GuestImages;
let work: string;
let passwordFile: string;
let vcEnv: NodeJS.ProcessEnv | undefined;

before(async () => {
  imgs = await guestImages();
  vcEnv = { ...process.env, VCSIM_HOME: HOME, VCSIM_PORT: String(await freePort()) };
  const envFile = (await run(join(VCSIM, 'start-vcsim.sh'), ['-autostart=false'], { env: vcEnv })).trim().split('\n').pop()!;
  host = /^VCSIM_HOSTPORT='(.*)'$/m.exec(await readFile(envFile, 'utf8'))![1]!;
  const vmDir = (await run(join(VCSIM, 'seed-vm.sh'), ['DC0_H0_VM0', '40M'], { env: vcEnv })).trim();
  await copyFile(imgs.raw, join(vmDir, 'disk1-flat.vmdk'));
  work = await mkdtemp(join(tmpdir(), 'guestkit-v2v-vpx-'));
  passwordFile = join(work, 'pw');
  await writeFile(passwordFile, 'any-password\n');
});

after(async () => {
  if (vcEnv) await run(join(VCSIM, 'start-vcsim.sh'), ['stop'], { env: vcEnv });
  if (work) await rm(work, { recursive: true, force: true });
});

test('vpx: the guest\'s memory, CPUs, firmware, disk bus and NIC from vCenter; the disk reads as the image', async () => {
  const warn = (m: string) => assert.fail(m);
  const source = await openInput('vpx', ['DC0_H0_VM0'], { connection: `vpx://user@${host}/DC0/host/DC0_H0?no_verify=1`, passwordFile, warn });
  try {
    // vcsim's model VM: 32 MiB, 1 vCPU, BIOS; the disk and an ATAPI CD-ROM on its PVSCSI controller, an e1000 on a DV port group.
    assert.equal(source.name, 'DC0_H0_VM0');
    assert.equal(source.memory, 32n << 20n);
    assert.equal(source.vcpus, 1);
    assert.equal(source.firmware, 'bios');
    assert.deepEqual(
      source.disks.map((d) => [d.name, d.bus]),
      [[`https://${host}/folder/DC0_H0_VM0/disk1-flat.vmdk?dcPath=DC0&dsName=LocalDS_0`, 'scsi']],
    );
    assert.deepEqual(source.cdroms, [{ bus: 'scsi' }]);
    assert.equal(source.nics.length, 1);
    assert.match(source.nics[0]!.mac!, /^00:0c:29(:[0-9a-f]{2}){3}$/);
    assert.deepEqual({ ...source.nics[0], mac: undefined }, { mac: undefined, network: 'dvportgroup-13', vnetType: 'network', model: 'e1000' });
    assert.match(printSource(source), /^\t0 \[scsi\] https:\/\/.*disk1-flat\.vmdk/m);
    const dev = await source.disks[0]!.open();
    try {
      const local = await readFile(imgs.raw);
      assert.equal(dev.size, BigInt(local.length));
      for (const at of [0, 1 << 20, 20 << 20, local.length - 65536]) assert.deepEqual(await dev.read(BigInt(at), 65536), local.subarray(at, at + 65536));
    } finally {
      await dev.close();
    }
  } finally {
    await source.close();
  }
});

test('vpx: an unknown guest and a missing -ic are clear errors', async () => {
  const warn = (m: string) => assert.fail(m);
  await assert.rejects(openInput('vpx', ['no-such-vm'], { connection: `vpx://user@${host}/DC0/host/DC0_H0?no_verify=1`, passwordFile, warn }), {
    name: 'InputError',
    message: `no-such-vm: vCenter ${host}: no guest "no-such-vm" at DC0/vm/no-such-vm (a guest in a VM folder is named folder/guest)`,
  });
  await assert.rejects(openInput('vpx', ['DC0_H0_VM0'], { warn }), { message: '-i vpx: needs -ic vpx://user@server/Datacenter/host/esxi' });
});
