/**
 * A few workers run together over shared work (chunks of a disk, disks of a guest). Once one
 * fails, `failed` tells the others to wind down; the first error is thrown only after every
 * worker has stopped, so nothing still runs when the caller cleans up (closes a target).
 */
export class Workers {
  failed = false;

  async run(count: number, worker: () => Promise<void>): Promise<void> {
    const settled = await Promise.allSettled(
      Array.from({ length: Math.max(1, count) }, () =>
        worker().catch((e: unknown) => {
          this.failed = true;
          throw e;
        }),
      ),
    );
    const error = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (error) throw error.reason;
  }
}
