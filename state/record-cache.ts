/**
 * The task's write-back record cache: one per task, shared by the task's stores, bounded in bytes.
 *
 * The byte budget belongs to the instance, not the task (`CacheBudget`): an instance may run a hundred
 * tasks, and a per-task budget multiplied memory by that count. A task may hold any amount while the
 * instance is under budget; once the instance is over, each task over its fair share (`fairShare`:
 * what the tasks holding less leave unused goes to the others) gives bytes back at its next `maintain()`.
 *
 * Entries are only ever evicted between batches (`maintain()`), never while a batch runs: a batch's
 * `prefetch` promised that its keys are readable synchronously until the batch ends. Dirty entries are
 * never dropped; going over budget makes `maintain()` flush every store of the task (one batch write
 * each) and then evict clean entries, least recently used first (a CLOCK sweep: cheaper than moving
 * entries in an LRU list on every read).
 */

/** What the cache needs to know of an entry; each store type keeps its own payload beside it. */
export interface CacheEntry {
  /** Approximate bytes held (serialized key and value plus a fixed overhead). */
  size: number
  dirty: boolean
  /** Set on every read or write, cleared by the eviction sweep. */
  used: boolean
}

/**
 * Bytes counted per entry beyond its key and value: the Map slot, the string key, the entry object, the
 * decoded value and the two retained Buffers (each an allocation of its own: see `retainedCopy`).
 * Measured by `bench/state/cache-entry-memory.ts`; the earlier guess of 96 let the cache hold six
 * times its budget.
 */
export const ENTRY_OVERHEAD = 650

/**
 * One instance's record cache budget, shared by the caches of all its tasks. A cache is a member while
 * it has a store open, so the share follows the tasks the instance runs right now.
 */
export class CacheBudget {
  private bytes = 0
  private readonly members = new Set<{ readonly sizeBytes: number }>()

  constructor(readonly maxBytes: number) {
    if (!(maxBytes >= 0)) throw new Error(`record cache: maxBytes must be a number >= 0, got ${maxBytes}`)
  }

  get sizeBytes(): number {
    return this.bytes
  }

  get overBudget(): boolean {
    return this.bytes > this.maxBytes
  }

  /** Each member cache's even share of the budget. */
  get share(): number {
    return this.members.size <= 1 ? this.maxBytes : this.maxBytes / this.members.size
  }

  /**
   * What a member may keep once the instance is over budget: the max-min fair share. Members holding
   * less than an even split of what is left keep all they hold, and leave the rest to the others.
   * An even share instead made every task over it evict while one big cache (a deduplication store's
   * 50 MB of event ids in LLM-Sentinel) kept the instance over: the small working sets of the other
   * tasks (8 MB of sessions and profiles) were evicted and re-read from RocksDB at every batch.
   * O(members log members): computed once per `maintain()` that has to give bytes back.
   */
  fairShare(): number {
    const sizes = [...this.members].map((m) => m.sizeBytes).sort((a, b) => a - b)
    let left = this.maxBytes
    let count = sizes.length
    for (const size of sizes) {
      if (size * count > left) return left / count
      left -= size
      count--
    }
    return this.maxBytes
  }

  join(member: { readonly sizeBytes: number }): void {
    this.members.add(member)
  }

  leave(member: { readonly sizeBytes: number }): void {
    this.members.delete(member)
  }

  adjust(delta: number): void {
    this.bytes += delta
  }
}

export class CacheNamespace<E extends CacheEntry> {
  readonly entries = new Map<string, E>()
  /**
   * The dirty entries themselves (identity-hashed: much cheaper than rehashing string keys), so
   * flush and range merges never walk the clean part of the cache.
   */
  readonly dirty = new Set<E>()

  constructor(
    readonly store: string,
    private readonly cache: RecordCache,
    readonly flush: () => Promise<void>,
  ) {}

  get(key: string): E | undefined {
    return this.entries.get(key)
  }

  set(key: string, entry: E): void {
    const previous = this.entries.get(key)
    if (previous) this.dirty.delete(previous)
    this.cache.adjust(entry.size - (previous?.size ?? 0))
    this.entries.set(key, entry)
    if (entry.dirty) this.dirty.add(entry)
  }

  /** Records a change of an entry's size or dirtiness made in place (no re-hashing of its key). */
  update(entry: E, sizeBefore: number): void {
    this.cache.adjust(entry.size - sizeBefore)
    if (entry.dirty) this.dirty.add(entry)
    else this.dirty.delete(entry)
  }

  /** Records a change of an entry's size alone (its dirtiness is handled by the caller). */
  adjustSize(delta: number): void {
    this.cache.adjust(delta)
  }

  /** Entries this namespace lost to eviction so far: a store's knowledge of what is cached is stale once it moves. */
  evictions = 0

  /** Drops a clean entry to free budget. */
  evict(key: string): void {
    this.evictions++
    this.delete(key)
  }

  delete(key: string): void {
    const previous = this.entries.get(key)
    if (!previous) return
    this.cache.adjust(-previous.size)
    this.entries.delete(key)
    this.dirty.delete(previous)
  }

  clear(): void {
    for (const entry of this.entries.values()) this.cache.adjust(-entry.size)
    this.entries.clear()
    this.dirty.clear()
  }
}

export interface RecordCacheStats {
  sizeBytes: number
  entries: number
  evictions: number
  budgetFlushes: number
}

export class RecordCache {
  private readonly namespaces = new Map<string, CacheNamespace<CacheEntry>>()
  private bytes = 0
  private evictions = 0
  private budgetFlushes = 0

  constructor(readonly budget: CacheBudget) {}

  get sizeBytes(): number {
    return this.bytes
  }

  /** Over when the instance is over its budget and this task holds more than its fair share. */
  get overBudget(): boolean {
    return this.budget.overBudget && this.bytes > this.budget.fairShare()
  }

  /** Called by a store when it opens; `flush` writes the store's dirty entries out. */
  register<E extends CacheEntry>(store: string, flush: () => Promise<void>): CacheNamespace<E> {
    if (this.namespaces.has(store)) throw new Error(`record cache: store "${store}" is already open in this task`)
    const ns = new CacheNamespace<E>(store, this, flush)
    if (this.namespaces.size === 0) this.budget.join(this)
    this.namespaces.set(store, ns as unknown as CacheNamespace<CacheEntry>)
    return ns
  }

  unregister(store: string): void {
    const ns = this.namespaces.get(store)
    if (!ns) return
    ns.clear()
    this.namespaces.delete(store)
    if (this.namespaces.size === 0) this.budget.leave(this)
  }

  adjust(delta: number): void {
    this.bytes += delta
    this.budget.adjust(delta)
  }

  /** Flushes every store of the task (one batch write each), e.g. at commit. */
  async flushAll(): Promise<void> {
    await Promise.all([...this.namespaces.values()].map((ns) => ns.flush()))
  }

  /**
   * Call between batches only. When over budget: flushes all stores, then evicts clean entries until
   * under budget. Returns whether it flushed (the runtime may want to count it).
   */
  async maintain(): Promise<boolean> {
    if (!this.overBudget) return false
    this.budgetFlushes++
    await this.flushAll()
    this.evictClean()
    return true
  }

  /**
   * Evicts clean entries not used since the last sweep, then (if still over) any clean entry, until
   * the instance is under budget or this task is down to its fair share (taken once: the other
   * tasks' sizes do not change meanwhile).
   */
  evictClean(): void {
    const target = this.budget.fairShare()
    const over = (): boolean => this.budget.overBudget && this.bytes > target
    for (let pass = 0; pass < 2 && over(); pass++) {
      for (const ns of this.namespaces.values()) {
        for (const [key, entry] of ns.entries) {
          if (!over()) return
          if (entry.dirty) continue
          if (entry.used && pass === 0) {
            entry.used = false
            continue
          }
          ns.evict(key)
          this.evictions++
        }
      }
    }
  }

  stats(): RecordCacheStats {
    let entries = 0
    for (const ns of this.namespaces.values()) entries += ns.entries.size
    return { sizeBytes: this.bytes, entries, evictions: this.evictions, budgetFlushes: this.budgetFlushes }
  }
}

/** A task's cache drawing on `budget`, or on a budget of its own of `budget` bytes. */
export function createRecordCache(budget: number | CacheBudget): RecordCache {
  return new RecordCache(typeof budget === 'number' ? new CacheBudget(budget) : budget)
}
