/** GUIDs as GPT stores them: the first three fields little-endian, the last two big-endian. */

export function guidToString(buf: Buffer, at: number): string {
  const hex = (start: number, end: number) => buf.subarray(at + start, at + end).toString('hex');
  const le = (start: number, end: number) => Buffer.from(buf.subarray(at + start, at + end)).reverse().toString('hex');
  return `${le(0, 4)}-${le(4, 6)}-${le(6, 8)}-${hex(8, 10)}-${hex(10, 16)}`.toUpperCase();
}

export function isZeroGuid(buf: Buffer, at: number): boolean {
  return buf.subarray(at, at + 16).every((b) => b === 0);
}
