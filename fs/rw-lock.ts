/**
 * A fair readers–writer lock for async code: any number of readers together, or one writer
 * alone. Waiters are served in arrival order, so a waiting writer holds back the readers that
 * come after it and cannot be starved; the readers queued together behind it then run
 * together.
 */
interface Waiter {
  exclusive: boolean;
  grant: () => void;
}

export class RwLock {
  private readers = 0;
  private writing = false;
  private readonly waiting: Waiter[] = [];
  /** Index of the first waiter not yet granted (the queue is trimmed lazily). */
  private head = 0;

  /** Run `fn` alongside other readers. */
  shared<T>(fn: () => Promise<T>): Promise<T> {
    return this.run(false, fn);
  }

  /** Run `fn` with no one else inside. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.run(true, fn);
  }

  private async run<T>(exclusive: boolean, fn: () => Promise<T>): Promise<T> {
    if (this.head === this.waiting.length && (exclusive ? !this.writing && this.readers === 0 : !this.writing)) this.enter(exclusive);
    else await new Promise<void>((grant) => this.waiting.push({ exclusive, grant }));
    try {
      return await fn();
    } finally {
      if (exclusive) this.writing = false;
      else this.readers--;
      this.wake();
    }
  }

  private enter(exclusive: boolean): void {
    if (exclusive) this.writing = true;
    else this.readers++;
  }

  /** Grant the head of the queue: one writer, or every reader up to the next writer. */
  private wake(): void {
    while (this.head < this.waiting.length && !this.writing) {
      const next = this.waiting[this.head]!;
      if (next.exclusive && this.readers > 0) break;
      this.head++;
      this.enter(next.exclusive);
      next.grant();
      if (next.exclusive) break;
    }
    if (this.head === this.waiting.length) {
      this.waiting.length = 0;
      this.head = 0;
    } else if (this.head > 1024) {
      this.waiting.splice(0, this.head);
      this.head = 0;
    }
  }
}
