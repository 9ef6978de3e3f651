/**
 * End to end through the command: the Windows-like guest as VMware leaves it (a VMX with a
 * monolithicSparse VMDK), converted with a virtio-win directory to `-o local -of qcow2`; then
 * qemu-img check, virt-xml-validate, ntfsfix and hivex on the result, which still inspects
 * as the same Windows, and the source files untouched.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fixture, scratch } from '../fixtures/cache.js';
import { hashFile, run } from '../fixtures/run.js';
import { BIN } from '../e2e/tools.js';
import { ntfscat, ntfsfixClean, systemDrive } from './convert/windows/helpers.js';
import { virtioWinDir } from './images/virtio-win.js';
import { WIN2K19, windowsGuest } from './images/windows-guest.js';
import { inspectDisks } from './guest-checks.js';

const VMX = `.encoding = "UTF-8"
config.version = "8"
virtualHW.version = "19"
displayName = "win2019"
guestOS = "windows2019srv-64"
memSize = "2048"
numvcpus = "2"
scsi0.present = "TRUE"
scsi0.virtualDev = "lsisas1068"
scsi0:0.present = "TRUE"
scsi0:0.fileName = "win2019.vmdk"
ethernet0.present = "TRUE"
ethernet0.virtualDev = "vmxnet3"
ethernet0.networkName = "VM Network"
ethernet0.addressType = "static"
ethernet0.address = "00:50:56:12:34:56"
`;

/** The guest's directory on the datastore: win2019.vmx and its monolithicSparse disk. */
async function vmwareGuest(): Promise<string> {
  const { disk } = await windowsGuest(WIN2K19);
  const dir = await fixture('v2v-e2e-win-vmx', `${VMX} qemu-img convert -O vmdk -o subformat=monolithicSparse ${disk}`, async (out) => {
    await run('mkdir', [out]);
    await run('qemu-img', ['convert', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=monolithicSparse', disk, join(out, 'win2019.vmdk')]);
    await writeFile(join(out, 'win2019.vmx'), VMX);
  });
  return dir;
}

test('virt-v2v -i vmx (Windows, monolithicSparse) -o local -of qcow2 with VIRTIO_WIN: a clean, converted, same-OS guest', async () => {
  const src = await vmwareGuest();
  const vmdk = join(src, 'win2019.vmdk');
  const before = await hashFile(vmdk);
  const osBefore = await inspectDisks([{ path: vmdk, format: 'vmdk' }]);
  const work = await scratch('v2v-e2e-win');
  const out = join(work, 'out');
  await run('mkdir', [out]);
  const stdout = await run(process.execPath, [join(BIN, 'virt-v2v.js'), '-i', 'vmx', join(src, 'win2019.vmx'), '-o', 'local', '-os', out, '-of', 'qcow2', '--network', 'VM Network:default'], {
    env: { ...process.env, VIRTIO_WIN: await virtioWinDir() },
  });
  assert.match(stdout, /Converting Windows Server 2019 Standard to run on KVM/);
  assert.equal(await hashFile(vmdk), before, 'the source VMDK was written');

  const target = join(out, 'win2019-sda');
  await run('qemu-img', ['check', target]);
  const xmlFile = join(out, 'win2019.xml');
  await run('virt-xml-validate', [xmlFile, 'domain']);
  const xml = await readFile(xmlFile, 'utf8');
  assert.match(xml, /<target dev='vda' bus='virtio'\/>/);
  assert.match(xml, /<memory unit='KiB'>2097152<\/memory>/);
  assert.match(xml, /<vcpu placement='static'>2<\/vcpu>/);
  assert.match(xml, /<mac address='00:50:56:12:34:56'\/>\s*<source network='default'\/>\s*<model type='virtio'\/>/);
  assert.match(xml, /<clock offset='localtime'\/>/);

  const c = await systemDrive(target, work);
  const fix = await ntfsfixClean(c);
  assert.equal(fix.code, 0, fix.out);
  const system = join(work, 'SYSTEM');
  await writeFile(system, await ntfscat(c, '/Windows/System32/config/SYSTEM'));
  const current = (await run('hivexget', [system, 'Select', 'Current'])).trim();
  const services = `ControlSet${current.padStart(3, '0')}\\Services`;
  assert.equal((await run('hivexget', [system, `${services}\\viostor`, 'Start'])).trim(), '0', 'viostor starts at boot');
  assert.match(await run('hivexget', [system, `${services}\\viostor`, 'ImagePath']), /viostor\.sys/);
  const drivers = await ntfscat(c, '/Windows/System32/drivers/viostor.sys');
  assert.ok(drivers.length > 0);

  const osAfter = await inspectDisks([{ path: target, format: 'qcow2' }]);
  for (const k of ['type', 'distro', 'productName', 'majorVersion', 'minorVersion', 'hostname', 'windowsSystemroot'] as const) assert.equal(osAfter[k], osBefore[k], k);
});
