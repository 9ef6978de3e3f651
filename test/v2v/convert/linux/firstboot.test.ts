import assert from 'node:assert/strict';
import { chmod, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { FIRSTBOOT_SCRIPTS } from '../../../../v2v/convert/linux/firstboot.js';
import { scratch } from '../../../fixtures/cache.js';
import { run } from '../../../fixtures/run.js';
import { linuxGuest } from '../../images/linux-guest.js';
import { convertGuest } from './convert-guest.js';

test('first boot: the runner written into the guest runs each script once, in order, keeps going past a failure, then disables its unit', async () => {
  const g = await linuxGuest({ virtio: false });
  const work = await scratch('firstboot');
  try {
    const { raw } = await convertGuest(g.disk, work);
    // Take the runner and scripts out of the converted image with debugfs, as written.
    const tree = join(work, 'tree');
    await mkdir(tree);
    await run('debugfs', ['-R', `rdump /usr/lib/guestkit ${tree}`, `${raw}?offset=${g.root.offset}`]);
    const scripts = join(tree, 'guestkit/firstboot.d');
    assert.deepEqual((await readdir(scripts)).sort(), ['0001-remove-vmware-tools.sh', '0002-virtio-initramfs.sh', '0003-install-qemu-guest-agent.sh']);
    for (const f of [join(tree, 'guestkit/firstboot.sh'), ...(await readdir(scripts)).map((f) => join(scripts, f))]) await run('sh', ['-n', f]);

    // Run it for real against stand-ins: the guest's commands log their arguments, one fails.
    const bin = join(work, 'bin');
    const log = join(work, 'calls.log');
    await mkdir(bin);
    for (const cmd of ['apt-get', 'update-initramfs', 'systemctl']) {
      await writeFile(join(bin, cmd), `#!/bin/sh\necho "${cmd} $*" >> '${log}'\n${cmd === 'update-initramfs' ? 'exit 3\n' : ''}`);
      await chmod(join(bin, cmd), 0o755);
    }
    const runner = (await readFile(join(tree, 'guestkit/firstboot.sh'), 'utf8')).replace(`d=${FIRSTBOOT_SCRIPTS}`, `d='${scripts}'`);
    const out = await run('sh', ['-c', runner], { env: { ...process.env, PATH: `${bin}:${process.env['PATH']}` } });
    assert.deepEqual((await readFile(log, 'utf8')).trim().split('\n'), [
      'apt-get -y purge open-vm-tools',
      'update-initramfs -u -k all',
      'apt-get -y update',
      'apt-get -y install qemu-guest-agent',
      'systemctl disable guestkit-firstboot.service',
    ]);
    assert.match(out, /0002-virtio-initramfs\.sh exited with 3/);
    assert.deepEqual(await readdir(scripts), ['done']);
    assert.equal((await readdir(join(scripts, 'done'))).length, 3);
    await run('sh', ['-c', runner], { env: { ...process.env, PATH: `${bin}:${process.env['PATH']}` } });
    assert.equal((await readFile(log, 'utf8')).trim().split('\n').length, 6, 'a second run runs no script again');
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});
