/**
 * Errors of virt-v2v's inputs: the message names the file (VMX, OVA, OVF, XML) and, where known,
 * the byte offset. Values quoted from the file (names, fields) may hold control characters:
 * escaped as `\xHH`, so the message stays one line (bench/fuzz found names with newlines).
 */
export class InputError extends Error {
  constructor(
    readonly file: string,
    readonly detail: string,
    readonly offset?: bigint | number,
    options?: ErrorOptions,
  ) {
    super(`${file}: ${escapeControls(detail)}${offset === undefined ? '' : ` (at byte ${offset})`}`, options);
    this.name = 'InputError';
  }
}

function escapeControls(text: string): string {
  return text.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
