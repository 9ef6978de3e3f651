/** Filesystem errors carry a POSIX errno name, which the FUSE layer answers with. */
export type Errno =
  | 'ENOENT' | 'EIO' | 'EACCES' | 'EEXIST' | 'ENOTDIR' | 'EISDIR' | 'ENOTEMPTY' | 'EINVAL'
  | 'ENOSPC' | 'EROFS' | 'ENOTSUP' | 'ENODATA' | 'ENAMETOOLONG' | 'EFBIG' | 'EXDEV' | 'EPERM'
  | 'EMLINK' | 'ELOOP' | 'ERANGE' | 'EBADF' | 'EFSCORRUPTED' | 'EBUSY';

export class FsError extends Error {
  constructor(
    readonly code: Errno,
    detail: string,
  ) {
    super(`${code}: ${detail}`);
    this.name = 'FsError';
  }
}

/**
 * An on-disk structure is wrong: EIO, with the device, the structure and the byte offset
 * in the message (ColinFinck/ntfs style: errors carry the position of what was wrong).
 */
export function corrupt(device: string, structure: string, what: string, offset?: bigint | number): FsError {
  return new FsError('EIO', `${device}: ${structure}: ${what}${offset === undefined ? '' : ` (at byte ${offset})`}`);
}
