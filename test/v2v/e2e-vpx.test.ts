/**
 * End to end from vCenter: `virt-v2v -ic vpx://… -ip FILE GUEST -o local` against VMware's
 * simulator (test/remote/vcsim/), whose VM's flat disk is the Debian test guest; the disk is
 * read over HTTPS with the session cookie, converted, and checked as the local inputs are.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { run, runStatus } from '../fixtures/run.js';
import { vcSessions } from '../remote/vcsim-sessions.js';
import { freePort } from '../remote/nginx.js';
import { BIN } from '../e2e/tools.js';
import { linuxGuest } from './images/linux-guest.js';
import { e2fsckAll, inspectDisks } from './guest-checks.js';

const VCSIM = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'remote', 'vcsim');
const HOME = '/tmp/guestkit-vcsim-v2v-e2e';
let host: string;
let caFile: string;
let work: string;
let vcEnv: NodeJS.ProcessEnv | undefined;
let disk: string;

before(async () => {
  disk = (await linuxGuest()).disk;
  vcEnv = { ...process.env, VCSIM_HOME: HOME, VCSIM_PORT: String(await freePort()) };
  const envFile = (await run(join(VCSIM, 'start-vcsim.sh'), ['-autostart=false'], { env: vcEnv })).trim().split('\n').pop()!;
  const envText = await readFile(envFile, 'utf8');
  host = /^VCSIM_HOSTPORT='(.*)'$/m.exec(envText)![1]!;
  caFile = /^VCSIM_CA_FILE='(.*)'$/m.exec(envText)![1]!;
  const vmDir = (await run(join(VCSIM, 'seed-vm.sh'), ['DC0_H0_VM0', String((await stat(disk)).size)], { env: vcEnv })).trim();
  await copyFile(disk, join(vmDir, 'disk1-flat.vmdk'));
  work = await mkdtemp(join(tmpdir(), 'guestkit-v2v-e2e-vpx-'));
});

after(async () => {
  if (vcEnv) await run(join(VCSIM, 'start-vcsim.sh'), ['stop'], { env: vcEnv });
  if (work) await rm(work, { recursive: true, force: true });
});

test('virt-v2v -ic vpx:// -ip FILE GUEST -o local: the Debian guest converted from the simulator', async () => {
  const pw = join(work, 'pw');
  await writeFile(pw, 'any-password\n');
  const out = join(work, 'out');
  await run('mkdir', [out]);
  const stdout = await run(process.execPath, [join(BIN, 'virt-v2v.js'), '-ic', `vpx://user@${host}/DC0/host/DC0_H0?no_verify=1`, '-ip', pw, 'DC0_H0_VM0', '-o', 'local', '-os', out, '-on', 'web']);
  assert.match(stdout, /Setting up the source: -i vpx DC0_H0_VM0/);
  assert.match(stdout, /Converting Debian GNU\/Linux 12 \(bookworm\) to run on KVM/);
  assert.doesNotMatch(stdout, /any-password/);

  const xmlFile = join(out, 'web.xml');
  await run('virt-xml-validate', [xmlFile, 'domain']);
  const xml = await readFile(xmlFile, 'utf8');
  assert.match(xml, /<target dev='vda' bus='virtio'\/>/);
  assert.match(xml, /<memory unit='KiB'>32768<\/memory>/, "vcsim's model VM has 32 MiB");
  assert.match(xml, /<mac address='00:0c:29(:[0-9a-f]{2}){3}'\/>/);

  const target = join(out, 'web-sda');
  assert.ok((await e2fsckAll([{ path: target, format: 'raw' }])).length >= 2);
  const before = await inspectDisks([{ path: disk, format: 'raw' }]);
  const afterOs = await inspectDisks([{ path: target, format: 'raw' }]);
  for (const k of ['type', 'distro', 'majorVersion', 'hostname', 'root'] as const) assert.equal(afterOs[k], before[k], k);
});

test('virt-v2v -ic vpx:// --cacert FILE: vCenter ends the session mid-conversion, the disk reads renew it and the copy completes', async () => {
  const pw = join(work, 'pw');
  await writeFile(pw, 'any-password\n');
  const out = join(work, 'out-renew');
  await run('mkdir', [out]);
  const vc = await vcSessions(host, await readFile(caFile));
  try {
    const child = spawn(process.execPath, [join(BIN, 'virt-v2v.js'), '-ic', `vpx://user@${host}/DC0/host/DC0_H0`, '--cacert', caFile, '-ip', pw, 'DC0_H0_VM0', '-o', 'local', '-os', out, '-of', 'qcow2', '-on', 'web']);
    let stdout = '';
    let stderr = '';
    let ended: Promise<number> | undefined;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      // The disk is open on the Login's session; every read from here on needs it.
      if (!ended && stdout.includes('Inspecting the source')) ended = vc.terminateOthers();
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, `virt-v2v failed: ${stderr}`);
    assert.ok(ended, 'the conversion never reached inspection');
    assert.ok((await ended) >= 1, 'no session of virt-v2v was open to end');
    assert.match(stdout, /Creating output metadata/);
    // The one session left besides ours is the one the disk reads renewed with basic auth.
    assert.ok((await vc.keys()).filter((k) => k !== vc.own).length >= 1, 'no session was renewed');
  } finally {
    await vc.close();
  }
  // Every read landed: the target is a sound qcow2 holding the converted guest.
  await run('qemu-img', ['check', join(out, 'web-sda')]);
  const afterOs = await inspectDisks([{ path: join(out, 'web-sda'), format: 'qcow2' }]);
  assert.equal(afterOs.distro, 'debian');

  // Without the CA (and without ?no_verify=1) vCenter's certificate is refused, naming --cacert.
  const refused = await runStatus(process.execPath, [join(BIN, 'virt-v2v.js'), '-ic', `vpx://user@${host}/DC0/host/DC0_H0`, '-ip', pw, 'DC0_H0_VM0', '--print-source']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /certificate.*--cacert FILE/);
});
