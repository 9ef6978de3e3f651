/** Errors of the block layer. The message names the image, the structure and the byte offset. */
export class DiskError extends Error {
  constructor(
    readonly image: string,
    readonly detail: string,
    readonly offset?: bigint | number,
    /** POSIX errno name that the FUSE layer answers with (EIO unless said otherwise). */
    readonly code: string = 'EIO',
  ) {
    super(`${image}: ${detail}${offset === undefined ? '' : ` (at byte ${offset})`}`);
    this.name = 'DiskError';
  }
}
