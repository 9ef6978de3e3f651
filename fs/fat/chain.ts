/**
 * Following a cluster chain through the FAT, bounded: every link must name a data cluster,
 * a chain may not revisit a cluster (a loop), and a chain is never followed further than
 * its owner needs, so a hostile FAT cannot make us loop or allocate without limit.
 */
import { corrupt } from '../errors.js';
import type { FatTable } from './fat-table.js';

/**
 * The clusters of the chain starting at `first`, at most `limit` of them (a chain that goes
 * on past `limit` is cut there; `exact` makes a shorter chain an error too).
 */
export async function readChain(
  fat: FatTable,
  device: string,
  owner: string,
  first: number,
  limit: number,
  exact = false,
): Promise<number[]> {
  const out: number[] = [];
  if (first === 0) {
    if (exact && limit > 0) throw corrupt(device, owner, `has no clusters but needs ${limit}`);
    return out;
  }
  const seen = new Set<number>();
  let n = first;
  const bad = (what: string) => corrupt(device, owner, `cluster chain from ${first}: ${what}`);
  while (out.length < limit) {
    if (n < 2 || n > fat.clusterMax) throw bad(`cluster ${n} is past the end of the data area (last is ${fat.clusterMax})`);
    if (seen.has(n)) throw bad(`loops back to cluster ${n}`);
    seen.add(n);
    out.push(n);
    const next = await fat.get(n);
    if (next >= fat.eoc) break;
    if (next === 0) throw bad(`cluster ${n} links to a free cluster`);
    if (next === fat.badMark) throw bad(`cluster ${n} links to a bad cluster`);
    n = next;
  }
  if (exact && out.length < limit) throw bad(`ends after ${out.length} clusters but ${limit} are needed`);
  return out;
}

/** Contiguous runs of clusters, for reading and writing in as few requests as possible. */
export function runs(clusters: number[], from = 0, to = clusters.length): { first: number; count: number; index: number }[] {
  const out: { first: number; count: number; index: number }[] = [];
  for (let i = from; i < to; i++) {
    const c = clusters[i]!;
    const last = out[out.length - 1];
    if (last && last.first + last.count === c) last.count++;
    else out.push({ first: c, count: 1, index: i });
  }
  return out;
}
