/** Errors of virt-v2v's inputs: the message names the file (VMX, OVA, OVF, XML) and, where known, the byte offset. */
export class InputError extends Error {
  constructor(
    readonly file: string,
    readonly detail: string,
    readonly offset?: bigint | number,
    options?: ErrorOptions,
  ) {
    super(`${file}: ${detail}${offset === undefined ? '' : ` (at byte ${offset})`}`, options);
    this.name = 'InputError';
  }
}
