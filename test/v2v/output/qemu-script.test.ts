/** -o qemu's NAME.sh: a shell script sh accepts, booting every disk on the chosen bus. */
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { hardwareOf } from '../../../v2v/output/hardware.js';
import { NetworkMap } from '../../../v2v/output/networks.js';
import { qemuScript, shellQuote } from '../../../v2v/output/qemu-script.js';
import { scratch } from '../../fixtures/cache.js';
import { run } from '../../fixtures/run.js';
import { FALLBACK, jobOf, VIRTIO } from './job.js';

/** The words the script passes to qemu, as sh splits them (a printf stands in for qemu: its argv is the check). */
async function argvOf(script: string, name: string): Promise<string[]> {
  const dir = await scratch(`v2v-qemu-${name}`);
  const path = join(dir, 'guest.sh');
  await writeFile(path, script.replace(/^exec qemu-system-\S+/m, 'exec printf "%s\\n"'), { mode: 0o755 });
  await run('sh', ['-n', path]);
  return (await run('sh', [path])).trimEnd().split('\n');
}

test('qemu script: virtio disks, NICs with MACs, agent, rng, balloon; file names with spaces and commas survive sh', async () => {
  const hw = hardwareOf(jobOf(VIRTIO), ['/images/my guest,1-sda', '/images/g-sdb'], 'qcow2', new NetworkMap());
  const script = qemuScript(hw);
  assert.match(script, /^#!\/bin\/sh -\n/);
  assert.match(script, /^exec qemu-system-x86_64 \\$/m);
  const argv = await argvOf(script, 'virtio');
  assert.deepEqual(argv.slice(0, 10), ['-no-user-config', '-nodefaults', '-name', 'web & db', '-machine', 'q35,accel=kvm:tcg', '-m', '3072', '-smp', '4']);
  assert.ok(argv.includes('file=/images/my guest,,1-sda,format=qcow2,if=virtio,index=0,media=disk'), argv.join(' '));
  assert.ok(argv.includes('file=/images/g-sdb,format=qcow2,if=virtio,index=1,media=disk'));
  assert.ok(argv.includes('virtio-net-pci,netdev=net2,mac=00:50:56:aa:bb:03'));
  assert.ok(argv.includes('virtserialport,chardev=qga0,name=org.qemu.guest_agent.0'));
  assert.ok(argv.includes('virtio-rng-pci') && argv.includes('virtio-balloon-pci'));
  assert.deepEqual(argv.slice(argv.indexOf('-vga'), argv.indexOf('-vga') + 2), ['-vga', 'virtio']);
});

test('qemu script: IDE fallback on pc with e1000; UEFI boots from a fresh copy of the variable store', async () => {
  const ide = await argvOf(qemuScript(hardwareOf(jobOf(FALLBACK), ['/images/w-sda'], 'raw', new NetworkMap())), 'ide');
  assert.ok(ide.includes('pc,accel=kvm:tcg'));
  assert.ok(ide.includes('file=/images/w-sda,format=raw,if=ide,index=0,media=disk'));
  assert.ok(ide.includes('e1000,netdev=net0,mac=00:50:56:aa:bb:01'));
  assert.ok(!ide.some((a) => a.includes('virtio')));

  const script = qemuScript(hardwareOf(jobOf({ ...VIRTIO, diskBus: 'sata', firmware: 'uefi' }), ['/images/u-sda'], 'raw', new NetworkMap()));
  const uefi = await argvOf(script, 'uefi');
  const vars = uefi.find((a) => a.startsWith('if=pflash,format=raw,file=/tmp/'));
  assert.ok(vars, 'the variable store is a temporary copy');
  await rm(vars.slice('if=pflash,format=raw,file='.length), { force: true });
  assert.ok(uefi.some((a) => /^if=pflash,format=raw,file=\/usr\/share\/.*OVMF_CODE.*readonly=on$/.test(a)));
  assert.ok(uefi.includes('ide-hd,drive=drive-sda,bus=ide.0'));
});

test('shellQuote: plain words bare, anything else single-quoted so sh gives it back unchanged', async () => {
  assert.equal(shellQuote('file=/a/b,format=raw'), 'file=/a/b,format=raw');
  const hard = `it's $HOME "x" \`y\` \\ *`;
  assert.equal((await run('sh', ['-c', `printf %s ${shellQuote(hard)}`])), hard);
});
