/**
 * Remembers what a store derived from a record key (its bytes, cache map key, logged key), so that
 * a batch's prefetch, then each record's `get` and `put`, convert a key once: serializing, copying
 * into a logged key and hashing a fresh map-key string cost more than a Map lookup of the key itself.
 *
 * Only primitive keys are remembered: an object key could be mutated between calls, and comparing it
 * by content would cost what it saves. The memo is bounded: when full it starts over (the next
 * batch's keys refill it), which keeps it a cheap memo rather than a second cache.
 *
 * Buffers it keeps must own their allocation (`retainedCopy`, `Buffer.allocUnsafeSlow`): a small
 * Buffer from `Buffer.from` or `allocUnsafe` is a view into Node's shared 8 KiB pool, and a kept view
 * pins its whole pool block. With views, the ~390 memos of one soak instance (up to 8192 keys each)
 * pinned 11,500 pool blocks, 90 MiB of native memory, for ~3 MiB of keys, growing as the memos
 * filled and as tasks moved in (bench/soak/results/README.md, 2026-12-07 heap snapshots).
 */
export class KeyMemo<R> {
  private readonly map = new Map<unknown, R>()

  constructor(private readonly limit = 8192) {}

  get(key: unknown): R | undefined {
    return this.map.get(key)
  }

  set(key: unknown, derived: R): void {
    // -0 and 0 are one Map key but a serde may tell them apart.
    if ((typeof key === 'object' && key !== null) || typeof key === 'function' || Object.is(key, -0)) return
    if (this.map.size >= this.limit) this.map.clear()
    this.map.set(key, derived)
  }
}
