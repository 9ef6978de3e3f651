/** Errors of the block layer. The message names the image, the structure and the byte offset. */
export class DiskError extends Error {
  constructor(
    readonly image: string,
    readonly detail: string,
    readonly offset?: bigint | number,
    /** POSIX errno name that the FUSE layer answers with (EIO unless said otherwise). */
    readonly code: string = 'EIO',
    options?: ErrorOptions,
  ) {
    super(`${image}: ${detail}${offset === undefined ? '' : ` (at byte ${offset})`}`, options);
    this.name = 'DiskError';
  }
}

/** An image whose format was only probed names a backing file: given `format`, it would be opened. */
export class FormatNeededError extends DiskError {
  constructor(
    image: string,
    detail: string,
    readonly format: string,
  ) {
    super(image, detail, undefined, 'EPERM');
  }
}
