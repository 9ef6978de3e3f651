/**
 * A converted guest boots: the bootable test guest (the host's Debian kernel and a busybox
 * initramfs with the kernel's virtio modules) converted with `-o qemu -of qcow2`, then booted
 * by the script virt-v2v wrote (under TCG: this machine's /dev/kvm opens but never runs a
 * guest, and the script would pick it), with the kernel and
 * initramfs taken out of the converted disk by debugfs. Its /init reports on the serial
 * console what the guest's own kernel found on the virtio disk.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { scratch } from '../fixtures/cache.js';
import { run } from '../fixtures/run.js';
import { BIN } from '../e2e/tools.js';
import { bootableGuest, ROOT_LABEL } from './images/bootable-guest.js';

const BOOT_TIMEOUT_MS = 120_000;

/** Run the generated script with extra qemu options; resolves with the serial console's text. */
function boot(script: string, extra: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const qemu = spawn('sh', [script, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    qemu.stdout.on('data', (b: Buffer) => (out += b.toString()));
    qemu.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const timer = setTimeout(() => {
      qemu.kill('SIGKILL');
      reject(new Error(`the guest did not power off within ${BOOT_TIMEOUT_MS / 1000} s; console:\n${out.slice(-3000)}`));
    }, BOOT_TIMEOUT_MS);
    qemu.once('error', reject);
    qemu.once('exit', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

test('a converted Linux guest boots with qemu on virtio and its kernel finds the disk', { timeout: 300_000 }, async () => {
  const guest = await bootableGuest();
  const out = await scratch('v2v-boot');
  const said = await run(process.execPath, [join(BIN, 'virt-v2v.js'), '-i', 'disk', guest.disk, '-o', 'qemu', '-os', out, '-of', 'qcow2', '-on', 'bootable']);
  assert.match(said, /\/etc\/fstab: /, 'the fstab rename is reported');
  const script = join(out, 'bootable.sh');
  assert.match(await readFile(script, 'utf8'), /-drive file=[^ ]*bootable-sda,format=qcow2,if=virtio/, 'the disk goes on virtio');

  // The kernel and initramfs as the converted disk holds them, read by debugfs.
  const raw = join(out, 'converted.raw');
  await run('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', join(out, 'bootable-sda'), raw]);
  const fs = `${raw}?offset=${1 << 20}`;
  assert.equal((await run('debugfs', ['-R', 'cat /etc/fstab', fs])).trim(), '/dev/vda1  /  ext4  errors=remount-ro 0 1');
  const kernel = join(out, 'vmlinuz');
  const initrd = join(out, 'initrd.img');
  await run('debugfs', ['-R', `dump /boot/vmlinuz-${guest.version} ${kernel}`, fs]);
  await run('debugfs', ['-R', `dump /boot/initrd.img-${guest.version} ${initrd}`, fs]);

  const serial = await boot(script, ['-machine', 'accel=tcg', '-display', 'none', '-no-reboot', '-kernel', kernel, '-initrd', initrd, '-append', 'console=ttyS0 panic=-1 loglevel=4']);
  const probes = serial.split(/\r?\n/).filter((l) => l.startsWith('BOOT-PROBE'));
  assert.ok(!probes.some((l) => /failed/.test(l)), `every virtio module loads:\n${probes.join('\n')}`);
  const size = /^BOOT-PROBE disk vda (\d+) sectors/m.exec(probes.join('\n'));
  assert.ok(size, `the guest's kernel has /dev/vda:\n${serial.slice(-3000)}`);
  assert.equal(Number(size[1]) * 512, Number((await run('qemu-img', ['info', '--output=json', join(out, 'bootable-sda')])).match(/"virtual-size": (\d+)/)![1]));
  assert.match(probes.join('\n'), new RegExp(`^BOOT-PROBE vda1 magic 53ef label ${ROOT_LABEL}$`, 'm'), 'it reads the ext4 root through virtio');
});
