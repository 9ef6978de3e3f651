/** Errors of the registry hive reader and writer: the message names the hive, the structure and the byte offset. */
export class HiveError extends Error {
  constructor(
    readonly hive: string,
    readonly structure: string,
    readonly detail: string,
    /** Byte offset in the hive file of the structure that was wrong, when there is one. */
    readonly offset?: number,
  ) {
    super(`${hive}: ${structure}: ${detail}${offset === undefined ? '' : ` (at byte ${offset})`}`);
    this.name = 'HiveError';
  }
}
