/**
 * What an output (`-o local`, `-o qemu`, `-o null`) is given and does: it is checked before
 * the conversion starts (a missing -os directory fails at once, not after the conversion),
 * then copies the converted disks (their overlays) and writes the guest's description.
 */
import type { BlockDevice } from '../../disk/block-device.js';
import type { OsInfo } from '../../inspect/os-info.js';
import type { Converted, Source } from '../types.js';
import type { NetworkMap } from './networks.js';

export type TargetFormat = 'raw' | 'qcow2';
export type Allocation = 'sparse' | 'preallocated';

export interface OutputOptions {
  /** The guest's name on the target (-on; the source's name by default). */
  name?: string;
  format: TargetFormat;
  allocation: Allocation;
  networks: NetworkMap;
}

/** What the pipeline hands an output once the guest is converted. */
export interface OutputJob {
  name: string;
  source: Source;
  os: OsInfo;
  converted: Converted;
  /** The converted disks (overlays over the source), in guest order, flushed. */
  disks: BlockDevice[];
  copy: CopyEvents;
}

/** How disks are copied and how the copy is reported. */
export interface CopyEvents {
  /** Disks copied at once (--parallel). */
  parallel: number;
  /** "Copying disk 1/2": one line per disk as it starts. */
  message: (line: string) => void;
  /** Bytes done over every disk together, out of their total size. */
  progress?: (done: bigint, total: bigint) => void;
}

export interface Output {
  /** How messages name it: "-o local -os /var/tmp". */
  readonly description: string;
  /** Refuse what would fail after the conversion: no such directory, a target already there. */
  check(name: string, disks: number): Promise<void>;
  write(job: OutputJob): Promise<void>;
}

/** libvirt's and virt-v2v's target names: sda, sdb, … sdz. */
export function diskSuffix(index: number): string {
  return `sd${String.fromCharCode(97 + index)}`;
}
