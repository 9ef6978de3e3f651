/** A virtio-win medium (a directory or an ISO) as the conversion reads it: a flat list of files with their paths. */

export interface VirtioWinFile {
  /** Relative path on the medium, '/'-separated, in the medium's own case ("viostor/2k19/amd64/viostor.sys"). */
  path: string;
  size: number;
}

export interface VirtioWinSource {
  /** The directory or ISO as the user named it (VIRTIO_WIN=…), for messages. */
  name: string;
  files(): Promise<VirtioWinFile[]>;
  read(file: VirtioWinFile): Promise<Buffer>;
  close(): Promise<void>;
}

/** Bounds on what a medium may hold: the real virtio-win ISO has about 4000 files, the largest some 60 MiB. */
export const LIMITS = { files: 100_000, depth: 32, fileSize: 512 * 1024 * 1024 };

export class VirtioWinError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VirtioWinError';
  }
}
