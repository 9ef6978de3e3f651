/**
 * Parsers for filter option values given as text (`--filter=cache:size=64M`). Each throws a
 * plain message; `stack.ts` adds which filter and option it was about.
 */

const UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** A byte count: `4096`, `64K`, `64M`, `1G` (powers of 1024, as nbdkit), optional `iB`/`B`. */
export function parseBytes(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not a size (like 4096, 64K, 64M, 1G)`);
  const bytes = Number(m[1]) * (UNITS[(m[2] ?? '').toUpperCase()] ?? 1);
  if (!Number.isSafeInteger(bytes)) throw new Error(`"${text}" is not a whole number of bytes`);
  return bytes;
}

/** A duration in milliseconds: `250`, `250ms`, `1.5s` (a bare number is milliseconds). */
export function parseMs(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s)?$/.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not a duration (like 250, 250ms, 1.5s)`);
  return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
}

/** A probability as nbdkit's error filter takes it: `0.1`, `10%` or `1:10`. */
export function parseRate(text: string): number {
  const t = text.trim();
  let rate: number;
  const ratio = /^(\d+):(\d+)$/.exec(t);
  if (ratio) rate = Number(ratio[1]) / Number(ratio[2]);
  else if (/^\d+(\.\d+)?%$/.test(t)) rate = Number(t.slice(0, -1)) / 100;
  else if (/^\d+(\.\d+)?$/.test(t)) rate = Number(t);
  else throw new Error(`"${text}" is not a rate (like 0.1, 10% or 1:10)`);
  return checkRate(rate, text);
}

export function checkRate(rate: number, shown: string | number = rate): number {
  if (!(rate >= 0 && rate <= 1)) throw new Error(`rate ${shown} is not between 0 and 1`);
  return rate;
}

export function parseBool(text: string): boolean {
  const t = text.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(t)) return true;
  if (['0', 'false', 'no', 'off'].includes(t)) return false;
  throw new Error(`"${text}" is not a boolean (true/false)`);
}

export function parseInteger(text: string): number {
  if (!/^-?\d+$/.test(text.trim())) throw new Error(`"${text}" is not an integer`);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new Error(`"${text}" is too large`);
  return n;
}

/** A power-of-two block size within [min, max], checked for constructors and parsers alike. */
export function checkBlockSize(size: number, min: number, max: number): number {
  if (!Number.isInteger(size) || size < min || size > max || (size & (size - 1)) !== 0) {
    throw new Error(`block size ${size} must be a power of two from ${min} to ${max}`);
  }
  return size;
}
