/**
 * virt-v2v's pipeline: a Source (from `v2v/input/`) in, a converted guest out through an
 * Output. Each source disk is opened read-only under a local qcow2 overlay in a temporary
 * directory, so not one byte of the source is written; the guest over the overlays is
 * inspected, its OS mounted and handed to the converter for its type, closed (which flushes
 * every change into the overlays), and the overlays are copied by the output. The overlays
 * are removed at the end, also when anything fails.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { BlockDevice } from '../disk/block-device.js';
import { createOverlay } from '../disk/qcow2/create.js';
import { WindowDevice } from '../disk/window.js';
import { Guest } from '../guest/guest.js';
import type { TraceSink } from '../guest/trace.js';
import { inspectGuest, mountOs, type OsInfo } from '../inspect/inspect.js';
import { GuestFiles } from './guest-files.js';
import { diskSuffix, type CopyEvents, type Output } from './output/output.js';
import type { Converted, Converter, Source } from './types.js';

export interface V2vOptions {
  /** The guest's name on the target (-on); the source's by default. */
  name?: string;
  /** A virtio-win directory or ISO for Windows guests (VIRTIO_WIN). */
  virtioWin?: string;
  /** Where the overlays are made (default: the system's temporary directory). */
  tmpdir?: string;
  /** Keep the overlays (--debug-overlays): their paths go to `message`, and the caller removes them. */
  keepOverlays?: boolean;
  /** The steps, as virt-v2v prints them: "Opening the source", "Copying disk 1/1". */
  message: (line: string) => void;
  /** Each change the converter made to the guest. */
  report: (change: string) => void;
  warn: (message: string) => void;
  /** Verbose messages of the guest (what was opened and found). */
  debug?: (message: string) => void;
  trace?: TraceSink;
  /** Disks copied at once (--parallel; default 1). */
  parallel?: number;
  /** Bytes copied over every disk, out of their total size. */
  progress?: CopyEvents['progress'];
}

export interface V2vResult {
  os: OsInfo;
  converted: Converted;
  /** The overlays' paths, when kept. */
  overlays?: string[];
}

/** The converter for an OS type, loaded only when a guest of that type is converted. */
const CONVERTERS: Record<string, () => Promise<Converter>> = {
  linux: async () => (await import('./convert/linux/convert.js')).convertLinux,
  windows: async () => (await import('./convert/windows/convert.js')).convertWindows,
};

export async function v2v(source: Source, output: Output, opts: V2vOptions): Promise<V2vResult> {
  const name = opts.name ?? source.name;
  await output.check(name, source.disks.length);
  opts.message('Opening the source');
  const dir = await mkdtemp(join(opts.tmpdir ?? tmpdir(), 'v2v.'));
  const overlays: BlockDevice[] = [];
  let guest: Guest | undefined;
  try {
    for (const [i, disk] of source.disks.entries()) {
      const dev = await disk.open();
      // The overlay names the source (absolute for a host file), so qemu-img can open a kept overlay.
      const backingName = disk.name.includes('://') || isAbsolute(disk.name) ? disk.name : resolve(disk.name);
      overlays.push(await createOverlay(dev, join(dir, `${diskSuffix(i)}.qcow2`), { backingName }).catch(async (e: unknown) => {
        await dev.close();
        throw e;
      }));
    }
    // The guest closes what it is given: windows onto the overlays, which stay open for the copy.
    guest = await Guest.openDevices(overlays.map((o) => new WindowDevice(o.name, o, 0n, o.size)), {
      readonly: false,
      warn: opts.warn,
      debug: opts.debug,
      trace: opts.trace,
    });
    for (const w of guest.scan.warnings) opts.warn(w);

    opts.message('Inspecting the source');
    const inspection = await inspectGuest(guest, { warn: opts.warn });
    const os = theOs(inspection.oses);
    await mountOs(guest, os, opts.warn);

    const convert = CONVERTERS[os.type];
    if (!convert) throw new Error(`virt-v2v is unable to convert this guest type (${os.type}/${os.distro})`);
    opts.message(`Converting ${os.productName || `${os.type} ${os.distro}`} to run on KVM`);
    const converted = await (await convert())(guest, os, new GuestFiles(guest.mounts), source, {
      virtioWin: opts.virtioWin,
      report: opts.report,
      warn: opts.warn,
    });

    opts.message('Closing the overlay');
    const closing = guest;
    guest = undefined;
    await closing.close();
    for (const o of overlays) await o.flush();

    opts.message(`Setting up the destination: ${output.description}`);
    await output.write({ name, source, os, converted, disks: overlays, copy: { parallel: opts.parallel ?? 1, message: opts.message, progress: opts.progress } });
    opts.message('Finishing off');
    return { os, converted, overlays: opts.keepOverlays ? overlays.map((o) => o.name) : undefined };
  } finally {
    // On failure the guest's changes no longer matter: close it for its file handles only.
    await guest?.close().catch(() => undefined);
    for (const o of overlays) await o.close().catch(() => undefined);
    if (!opts.keepOverlays) await rm(dir, { recursive: true, force: true });
  }
}

/** The one OS to convert, or virt-v2v's errors for none and for several. */
function theOs(oses: OsInfo[]): OsInfo {
  if (oses.length === 0) {
    throw new Error(
      'inspection could not detect the source guest (or physical machine): no operating system was found on its disks. This should not happen for a supported guest (and not, for example, a blank disk).',
    );
  }
  if (oses.length > 1) throw new Error(`multi-boot operating systems are not supported by virt-v2v (found ${oses.map((o) => `${o.type} on ${o.root}`).join(', ')})`);
  return oses[0]!;
}
