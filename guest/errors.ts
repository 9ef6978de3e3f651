/**
 * Errors of the front door. `code` is a POSIX errno name, as in the other layers; `kind`
 * says which error it is, so a tool can add its own option names ("use -a") to the
 * library's message, which speaks of the library only.
 */
export type GuestErrorKind =
  | 'no-disks' // Guest.open was given no images
  | 'too-many-disks'
  | 'no-device' // no candidate device of that name
  | 'no-filesystem' // nothing guestkit reads on the device
  | 'unknown-fstype' // a forced filesystem type no driver has
  | 'read-only' // a write asked of a read-only guest
  | 'not-mounted' // a path no mounted filesystem owns
  | 'already-mounted';

export class GuestError extends Error {
  constructor(
    readonly kind: GuestErrorKind,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'GuestError';
  }
}
