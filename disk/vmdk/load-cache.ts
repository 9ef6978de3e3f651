/**
 * A least-recently-used cache of loads, bounded by the bytes its entries cost (grain tables,
 * inflated grains). It holds promises, so concurrent misses share one load; a failed load is
 * forgotten so that a later read tries again and reports the error again.
 */
export class LoadCache<K, T> {
  private readonly map = new Map<K, { value: Promise<T>; cost: number }>();
  private total = 0;

  constructor(private readonly maxCost: number) {}

  /** The cached load of `key`, or `load()` cached at `cost` bytes. */
  get(key: K, cost: number, load: () => Promise<T>): Promise<T> {
    const hit = this.map.get(key);
    if (hit !== undefined) {
      // Map keeps insertion order: re-inserting marks the entry most recently used.
      this.map.delete(key);
      this.map.set(key, hit);
      return hit.value;
    }
    const value = load();
    this.map.set(key, { value, cost });
    this.total += cost;
    value.catch(() => {
      if (this.map.get(key)?.value === value) this.remove(key);
    });
    // The newest entry stays even when it alone is over budget: the caller is waiting on it.
    while (this.total > this.maxCost && this.map.size > 1) {
      const oldest = this.map.keys().next();
      if (oldest.done) break;
      this.remove(oldest.value);
    }
    return value;
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  private remove(key: K): void {
    const entry = this.map.get(key);
    if (!entry) return;
    this.total -= entry.cost;
    this.map.delete(key);
  }
}
