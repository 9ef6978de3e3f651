/**
 * A small least-recently-used cache of loads with a fixed number of entries: the grain-table
 * and inflated-grain caches. It holds promises, so concurrent misses share one load; a failed
 * load is forgotten so that a later read tries again and reports the error again.
 */
export class LoadCache<K, T> {
  private readonly map = new Map<K, Promise<T>>();

  constructor(private readonly capacity: number) {}

  get(key: K, load: () => Promise<T>): Promise<T> {
    const hit = this.map.get(key);
    if (hit !== undefined) {
      // Map keeps insertion order: re-inserting marks the entry most recently used.
      this.map.delete(key);
      this.map.set(key, hit);
      return hit;
    }
    const p = load();
    this.map.set(key, p);
    p.catch(() => {
      if (this.map.get(key) === p) this.map.delete(key);
    });
    while (this.map.size > this.capacity) {
      const oldest = this.map.keys().next();
      if (oldest.done) break;
      this.map.delete(oldest.value);
    }
    return p;
  }

  has(key: K): boolean {
    return this.map.has(key);
  }
}
