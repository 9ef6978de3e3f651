/**
 * Wait for every job, then throw the first failure. Reads into a caller's buffer use this
 * instead of Promise.all: once the call has failed the caller may reuse the buffer (FUSE hands
 * it to the next request), so no read may still be landing in it.
 */
export async function allSettled(jobs: Promise<unknown>[]): Promise<void> {
  // One job (a read in one run, the usual case) has nothing to wait for beside itself.
  if (jobs.length === 1) {
    await jobs[0];
    return;
  }
  const results = await Promise.allSettled(jobs);
  for (const r of results) if (r.status === 'rejected') throw r.reason;
}
