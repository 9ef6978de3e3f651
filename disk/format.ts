/** What a disk format driver (raw, qcow2, vmdk) provides to `openDisk`. */
import type { BlockDevice } from './block-device.js';

export interface OpenOptions {
  /** Force a format instead of probing ("raw", "qcow2", "vmdk"). */
  format?: string;
  /** Open for writing. Read-only opens write not one byte. */
  writable?: boolean;
  /**
   * Backing files named inside images are opened through this. `openDisk` passes its own
   * (relative names resolve next to the image; `json:` names go to registered resolvers).
   */
  openBacking?: (name: string, fromImage: string, format: string | undefined) => Promise<BlockDevice>;
  /** Backing files already on the chain, to refuse cycles and over-deep chains. */
  chain?: string[];
  /**
   * The name the image was opened by, when it is a URL: the driver's `path` is the name shown
   * in messages (without the user), and names the image holds resolve against this one.
   */
  url?: string;
}

export interface FormatDriver {
  readonly name: string;
  /** True when these first bytes (at least 4 KiB, or the whole file if smaller) are this format. */
  probe(head: Buffer): boolean;
  /** Whether images of this format can name backing files. */
  readonly hasBacking: boolean;
  /** Open the format on top of `file` (the image's bytes); `path` is the image's host path. */
  open(file: BlockDevice, path: string, opts: OpenOptions): Promise<BlockDevice>;
}
