/**
 * Which keys the engine may hold, per time segment: Bloom filters fed by every key this store writes
 * to the engine (flushes, restores). A prefetch asks it before reading the engine, so a key the store
 * never wrote (a new event id in a deduplication store, a new window of an aggregate) is cached as
 * absent without a RocksDB read. Before it, those reads were most of the window stores' engine reads
 * (`bench/sentinel/RESULTS.md`).
 *
 * Answers "may hold" (read the engine) or "does not hold"; never wrong in that direction:
 *  - segments that may have held keys when the store opened (at or below the highest segment then) are
 *    not tracked: always "may hold". A store opened empty (new or wiped) tracks every segment;
 *  - a filter never forgets a key (deletes and expiry only make it answer "may hold" more often);
 *  - dropped segments drop their filters, so memory follows the live segments (10 bits per key written).
 */

/** Bits per key and probes: ~1% false positives. */
const BITS_PER_KEY = 10
const PROBES = 7
/** Keys a segment's first filter takes; each further one takes twice the last (so old keys stay found). */
const FIRST_CAPACITY = 4096

class BloomFilter {
  private readonly bits: Uint32Array
  private readonly size: number
  count = 0

  constructor(readonly capacity: number) {
    this.size = capacity * BITS_PER_KEY
    this.bits = new Uint32Array(Math.ceil(this.size / 32))
  }

  add(h1: number, h2: number): void {
    for (let i = 0; i < PROBES; i++) {
      const bit = (h1 + i * h2) % this.size
      this.bits[bit >>> 5]! |= 1 << (bit & 31)
    }
    this.count++
  }

  has(h1: number, h2: number): boolean {
    for (let i = 0; i < PROBES; i++) {
      const bit = (h1 + i * h2) % this.size
      if ((this.bits[bit >>> 5]! & (1 << (bit & 31))) === 0) return false
    }
    return true
  }
}

/**
 * Two independent 32-bit hashes of the key (FNV-1a, and a multiplicative one), as unsigned numbers,
 * left in `h1` and `h2` (no tuple per lookup). A string key is the latin1 form of the bytes (a store's
 * cache map key): it hashes exactly as the bytes do, so a lookup by map key finds a key added as bytes.
 */
let h1 = 0
let h2 = 0
function hash(key: Buffer | string): void {
  let a = 0x811c9dc5
  let b = 0x9747b28c
  if (typeof key === 'string') {
    for (let i = 0; i < key.length; i++) {
      const byte = key.charCodeAt(i) & 0xff
      a = Math.imul(a ^ byte, 0x01000193)
      b = Math.imul(b ^ byte, 0x5bd1e995)
      b ^= b >>> 15
    }
  } else {
    for (let i = 0; i < key.length; i++) {
      const byte = key[i]!
      a = Math.imul(a ^ byte, 0x01000193)
      b = Math.imul(b ^ byte, 0x5bd1e995)
      b ^= b >>> 15
    }
  }
  h1 = a >>> 0
  // The step of the probe sequence must not be 0 modulo the size: odd, and below 2^31.
  h2 = ((b >>> 1) | 1) >>> 0
}

export class SegmentKeyFilter {
  private readonly filters = new Map<number, BloomFilter[]>()
  /** Segments below this may hold keys the filters never saw; undefined until known. */
  private trackedFrom: number | undefined

  /** `engineWasEmpty`: the store opened with nothing in its engine (new or wiped). */
  constructor(engineWasEmpty: boolean) {
    if (engineWasEmpty) this.trackedFrom = -Infinity
  }

  /** Whether the segments to track are known yet (a reopened store learns them from its bounds). */
  get ready(): boolean {
    return this.trackedFrom !== undefined
  }

  /**
   * For a reopened store, before its first lookup: the highest segment its engine held (undefined:
   * none). Every key written to the engine since it opened must have gone through `add` already.
   */
  trackAbove(highest: number | undefined): void {
    if (this.trackedFrom === undefined) this.trackedFrom = highest === undefined ? -Infinity : highest + 1
  }

  /** `key`: the bytes, or their latin1 string. */
  add(segment: number, key: Buffer | string): void {
    let chain = this.filters.get(segment)
    if (!chain) this.filters.set(segment, (chain = [new BloomFilter(FIRST_CAPACITY)]))
    let last = chain[chain.length - 1]!
    if (last.count >= last.capacity) chain.push((last = new BloomFilter(last.capacity * 2)))
    hash(key)
    last.add(h1, h2)
  }

  /** False only if the engine certainly does not hold `key` (bytes, or their latin1 string) in `segment`. */
  mayHold(segment: number, key: Buffer | string): boolean {
    if (this.trackedFrom === undefined || segment < this.trackedFrom) return true
    const chain = this.filters.get(segment)
    if (!chain) return false
    hash(key)
    for (const filter of chain) if (filter.has(h1, h2)) return true
    return false
  }

  /** The segments below `segment` were dropped from the engine. */
  dropBelow(segment: number): void {
    for (const s of this.filters.keys()) if (s < segment) this.filters.delete(s)
  }

  /** The engine was wiped: empty, every segment tracked from now on. */
  reset(): void {
    this.filters.clear()
    this.trackedFrom = -Infinity
  }
}
