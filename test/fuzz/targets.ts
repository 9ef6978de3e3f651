/**
 * The fuzz targets: each a parser (or the whole read path through it), the real images it
 * starts from, and how one case runs. Images come from the existing fixture builders, so
 * they are made by the real tools and cached.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RawFile } from '../../disk/raw.js';
import { parseDescriptor } from '../../disk/vmdk/descriptor.js';
import { checksum } from '../../inspect/hive/base-block.js';
import type { HiveKey } from '../../inspect/hive/hive.js';
import { Hive } from '../../inspect/hive/hive.js';
import { ConfigSyntaxError, parseConfig } from '../../volume/lvm-config.js';
import { readPvLabel } from '../../volume/lvm-label.js';
import { readMetadataText } from '../../volume/lvm-mda.js';
import { MetadataError, vgFromConfig } from '../../volume/lvm-vg.js';
import { scanVolumes } from '../../volume/scan.js';
import { fixture } from '../fixtures/cache.js';
import { run } from '../fixtures/run.js';
import { smallImage as ntfsSmall } from '../fs/ntfs/images.js';
import { VARIANTS, variantImage } from '../fs/ext4/images.js';
import { richHive } from '../inspect/hive/images.js';
import { linuxImage } from '../inspect/linux-image.js';
import { SPECS, windowsImage } from '../inspect/windows-image.js';
import { fatImage } from '../mount/images.js';
import { guestImages } from '../remote/images.js';
import { httpCase, httpContent } from './http-target.js';
import { ImageDevice } from './image-device.js';
import type { Rand } from './mutate.js';
import { isOurs, readEverything } from './read-path.js';
import { V2V_TARGETS } from './v2v-targets.js';

export interface Input {
  name: string;
  bytes: Buffer;
}

export interface Reached {
  /** Files, directories, OSes, keys, LVs… */
  reached: number;
  errors: number;
}

export interface Target {
  name: string;
  /** The clean inputs (built or found in the fixture cache). */
  inputs(): Promise<Input[]>;
  /** Text inputs get length-changing edits, binary ones patches over the clean bytes. */
  text?: boolean;
  /** Checksums to recompute after the damage, so it reaches the structures behind them. */
  reseal?(bytes: Buffer): void;
  /** One case over the damaged input: what it got through, and how many of our errors it met and went past. */
  run(dev: ImageDevice): Promise<Reached>;
  /** A case that makes its own damage from `rnd` (the HTTP target damages answers, not bytes). */
  runCase?(rnd: Rand, input: Input, ops: string[]): Promise<Reached>;
  /** Our errors for this parser (the read path's by default). */
  ours?(e: unknown): boolean;
}

const load = async (name: string, path: string): Promise<Input> => ({ name, bytes: await readFile(path) });

/** Format images of the remote tests' guest disk (GPT + ext4), made by qemu-img. */
function formatImages(): Promise<string> {
  return fixture('fuzz-formats', 'v1 qcow2 default, qcow2 -c 16k extended_l2, vmdk sparse, streamOptimized, twoGbMaxExtentSparse', async (out) => {
    const { raw } = await guestImages();
    await run('mkdir', ['-p', out]);
    const convert = (args: string[]) => run('qemu-img', ['convert', '-f', 'raw', ...args]);
    await convert(['-O', 'qcow2', raw, join(out, 'plain.qcow2')]);
    await convert(['-c', '-O', 'qcow2', '-o', 'cluster_size=16k,extended_l2=on', raw, join(out, 'compressed.qcow2')]);
    await convert(['-O', 'vmdk', '-o', 'subformat=monolithicSparse', raw, join(out, 'sparse.vmdk')]);
    await convert(['-O', 'vmdk', '-o', 'subformat=streamOptimized', raw, join(out, 'stream.vmdk')]);
    await convert(['-O', 'vmdk', '-o', 'subformat=twoGbMaxExtentSparse', raw, join(out, 'split.vmdk')]);
  });
}

const walkCount = async (dev: ImageDevice): Promise<Reached> => {
  const w = await readEverything(dev);
  return { reached: w.files + w.dirs + w.oses, errors: w.errors };
};
const parsed = (reached: number): Reached => ({ reached, errors: 0 });

/** Every key and value once (by offset, so a list pointing back up ends). */
function walkHive(root: HiveKey): number {
  const seen = new Set<number>();
  let n = 0;
  const visit = (k: HiveKey) => {
    if (seen.has(k.offset)) return;
    seen.add(k.offset);
    n++;
    for (const v of k.values()) n += v.data.length >= 0 ? 1 : 0;
    for (const c of k.subkeys()) visit(c);
  };
  visit(root);
  return n;
}

/** The metadata text LVM wrote on the Linux fixture's PV. */
async function lvmText(): Promise<Input> {
  const dev = await RawFile.open(join(await linuxImage(), 'disk.img'));
  try {
    const scan = await scanVolumes([{ name: '/dev/sda', device: dev }]);
    const pvName = scan.pvs[0]!.name;
    const pv = scan.partitions.find((p) => p.name === pvName)!.device;
    const label = (await readPvLabel(pv))!;
    const text = (await readMetadataText(pv, label.metadataAreas[0]!))!.text;
    return { name: 'vg0-metadata', bytes: Buffer.from(text, 'latin1') };
  } finally {
    await dev.close();
  }
}

export const TARGETS: Target[] = [
  {
    name: 'qcow2',
    inputs: async () => {
      const dir = await formatImages();
      return [await load('plain.qcow2', join(dir, 'plain.qcow2')), await load('compressed.qcow2', join(dir, 'compressed.qcow2'))];
    },
    run: walkCount,
  },
  {
    name: 'vmdk',
    inputs: async () => {
      const dir = await formatImages();
      return [await load('sparse.vmdk', join(dir, 'sparse.vmdk')), await load('stream.vmdk', join(dir, 'stream.vmdk'))];
    },
    run: walkCount,
  },
  {
    name: 'vmdk-descriptor',
    text: true,
    inputs: async () => [await load('split.vmdk', join(await formatImages(), 'split.vmdk'))],
    run: async (dev) => parsed(parseDescriptor(dev.bytes(), dev.name).extents.length),
  },
  {
    name: 'mbr',
    inputs: async () => [await load('windows-mbr.img', join(await windowsImage(SPECS.mbr), 'disk.img'))],
    run: walkCount,
  },
  {
    name: 'gpt',
    inputs: async () => [await load('windows-gpt.img', join(await windowsImage(SPECS.gpt), 'disk.img'))],
    run: walkCount,
  },
  {
    name: 'lvm',
    inputs: async () => [await load('linux-lvm.img', join(await linuxImage(), 'disk.img'))],
    run: walkCount,
  },
  {
    name: 'lvm-text',
    text: true,
    inputs: async () => [await lvmText()],
    run: async (dev) => parsed(vgFromConfig(parseConfig(dev.bytes().toString('latin1'))).lvs.length),
    ours: (e) => e instanceof ConfigSyntaxError || e instanceof MetadataError,
  },
  {
    name: 'ext4',
    inputs: async () => {
      const out: Input[] = [];
      for (const name of ['ext4-default', 'ext4-inline', 'ext4-1k', 'ext4-bigalloc', 'ext2']) {
        const v = VARIANTS.find((x) => x.name === name)!;
        out.push(await load(`${name}.img`, (await variantImage(v)).image));
      }
      return out;
    },
    run: walkCount,
  },
  {
    name: 'ntfs',
    inputs: async () => [await load('ntfs-small.img', await ntfsSmall())],
    run: walkCount,
  },
  {
    name: 'fat',
    inputs: async () => [await load('fat32.img', await fatImage())],
    run: walkCount,
  },
  {
    name: 'hive',
    inputs: async () => [await load('SYSTEM', (await richHive()).path)],
    reseal: (b) => {
      if (b.length >= 512) b.writeUInt32LE(checksum(b), 508);
    },
    run: async (dev) => parsed(walkHive(Hive.parse(dev.bytes(), dev.name).root)),
  },
  {
    name: 'http',
    inputs: async () => [{ name: 'http', bytes: httpContent() }],
    run: async (dev) => parsed(dev.bytes().length),
    runCase: async (rnd, input, ops) => parsed(await httpCase(rnd, input.bytes, ops)),
  },
  ...V2V_TARGETS,
];

export function target(name: string): Target {
  const t = TARGETS.find((x) => x.name === name);
  if (!t) throw new Error(`no fuzz target "${name}" (known: ${TARGETS.map((x) => x.name).join(', ')})`);
  return t;
}

/** Whether `e` is an error the target's parser may end in. */
export function expectedError(t: Target, e: unknown): boolean {
  return isOurs(e) || (t.ours?.(e) ?? false);
}
