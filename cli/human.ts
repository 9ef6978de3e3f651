/** Sizes as libguestfs's `-h` prints them (gnulib human_readable, base 1024): 512, 1.0K, 100M, 7.0E. */
const UNITS = ['K', 'M', 'G', 'T', 'P', 'E', 'Z'];

export function humanSize(bytes: bigint): string {
  if (bytes < 1024n) return bytes.toString();
  let unit = -1;
  let whole = bytes;
  // Scale with BigInt so exabyte sizes keep their precision until the last division.
  while (whole >= 1024n * 1024n && unit < UNITS.length - 2) {
    whole /= 1024n;
    unit++;
  }
  const value = Number(whole) / 1024;
  unit++;
  const shown = value < 10 ? (Math.round(value * 10) / 10).toFixed(1) : String(Math.round(value));
  // Rounding can carry into the next unit (1023.9K -> 1024K -> 1.0M).
  if (Number(shown) >= 1024 && unit < UNITS.length - 1) return `1.0${UNITS[unit + 1]}`;
  return `${shown}${UNITS[unit]}`;
}
