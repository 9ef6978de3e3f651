/**
 * The one least-recently-used map every cache uses (qcow2 tables, VMDK loads, ext4 blocks and
 * extent nodes, NTFS records, FAT listings). Bounded by a total cost: each entry costs 1 unless
 * its owner says otherwise (bytes, say). Map keeps insertion order, so re-inserting marks use
 * and the first key is the least recently used. The newest entry stays even when it alone is
 * over budget: its caller is about to use it.
 */
export class Lru<K, V> {
  private readonly map = new Map<K, { value: V; cost: number }>();
  private total = 0;

  constructor(private readonly maxCost: number) {}

  get size(): number {
    return this.map.size;
  }

  /** The value, marked most recently used. */
  get(key: K): V | undefined {
    const hit = this.map.get(key);
    if (hit === undefined) return undefined;
    this.map.delete(key);
    this.map.set(key, hit);
    return hit.value;
  }

  /** The value, its place in the order unchanged. */
  peek(key: K): V | undefined {
    return this.map.get(key)?.value;
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  set(key: K, value: V, cost = 1): void {
    this.delete(key);
    this.map.set(key, { value, cost });
    this.total += cost;
    while (this.total > this.maxCost && this.map.size > 1) {
      const oldest = this.map.keys().next();
      if (oldest.done) break;
      this.delete(oldest.value);
    }
  }

  delete(key: K): boolean {
    const hit = this.map.get(key);
    if (hit === undefined) return false;
    this.total -= hit.cost;
    return this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
    this.total = 0;
  }

  /**
   * The cached load of `key`, or `load()` cached at `cost`. Promises are kept, so concurrent
   * misses share one load; a failed load is forgotten so a later call tries again and reports
   * the error again.
   */
  load<T>(this: Lru<K, Promise<T>>, key: K, cost: number, load: () => Promise<T>): Promise<T> {
    const hit = this.get(key);
    if (hit !== undefined) return hit;
    const value = load();
    this.set(key, value, cost);
    value.catch(() => {
      if (this.peek(key) === value) this.delete(key);
    });
    return value;
  }
}
