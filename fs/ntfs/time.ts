/** NTFS times: 100-nanosecond intervals since 1601-01-01 UTC. */
import type { Timespec } from '../filesystem.js';

const EPOCH_DIFF = 11644473600n;
const TICKS = 10_000_000n;

export function ntfsTime(ticks: bigint): Timespec {
  const sec = ticks / TICKS - EPOCH_DIFF;
  return { sec: Number(sec), nsec: Number(ticks % TICKS) * 100 };
}

export function toNtfsTime(t: Timespec): bigint {
  return (BigInt(t.sec) + EPOCH_DIFF) * TICKS + BigInt(Math.floor(t.nsec / 100));
}
