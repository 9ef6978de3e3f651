/**
 * Binary search over runs laid end to end (a descriptor's extents, an LV's segments): the
 * index of the last run starting at or before `offset`. `startOf(i)` must not decrease with
 * `i`; among runs of equal start (empty ones) the last wins, so empty runs are skipped.
 */
export function runAt(count: number, startOf: (i: number) => bigint, offset: bigint): number {
  let lo = 0;
  let hi = count - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (startOf(mid) <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
