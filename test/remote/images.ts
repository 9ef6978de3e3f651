/** A small guest disk for the remote tests: ext4 (mkfs.ext4 -d) on GPT, as raw, qcow2 and VMDK. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fixture } from '../fixtures/cache.js';
import { run } from '../fixtures/run.js';
import { place } from '../e2e/tools.js';

const RECIPE = 'v1 remote: gpt p1 ext4 30M from dir (etc/hostname, data/big.bin 3 MiB pattern); raw, qcow2, vmdk monolithicSparse';

export interface GuestImages {
  dir: string;
  raw: string;
  qcow2: string;
  vmdk: string;
  /** Contents of /data/big.bin. */
  big: Buffer;
}

/** 3 MiB that differ in every 4 KiB, so a misplaced range shows. */
export function bigPattern(): Buffer {
  const b = Buffer.alloc(3 << 20);
  for (let i = 0; i < b.length; i += 4) b.writeUInt32LE((i * 2654435761) >>> 0, i);
  return b;
}

export async function guestImages(): Promise<GuestImages> {
  const dir = await fixture('remote-guest', RECIPE, async (out) => {
    await mkdir(join(out, 'tree', 'etc'), { recursive: true });
    await mkdir(join(out, 'tree', 'data'));
    await writeFile(join(out, 'tree', 'etc', 'hostname'), 'remote-guest\n');
    await writeFile(join(out, 'tree', 'data', 'big.bin'), bigPattern());
    const fs = join(out, 'fs.img');
    await run('mkfs.ext4', ['-q', '-F', '-L', 'rootfs', '-d', join(out, 'tree'), fs, '30M']);
    const raw = join(out, 'disk.raw');
    await run('truncate', ['-s', '40M', raw]);
    await run('sgdisk', ['-n', '1:2048:+30M', '-t', '1:8300', raw]);
    await place(fs, raw, 0, 2048 * 512, 30 << 20);
    await run('qemu-img', ['convert', '-O', 'qcow2', raw, join(out, 'disk.qcow2')]);
    await run('qemu-img', ['convert', '-O', 'vmdk', '-o', 'subformat=monolithicSparse', raw, join(out, 'disk.vmdk')]);
  });
  return { dir, raw: join(dir, 'disk.raw'), qcow2: join(dir, 'disk.qcow2'), vmdk: join(dir, 'disk.vmdk'), big: bigPattern() };
}
