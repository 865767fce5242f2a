/**
 * A seeded pseudo-random source (mulberry32) with the few distributions the generator draws from.
 * Seeded, so a run is reproducible: the same seed yields the same telemetry and the same incidents.
 */
export class SeededRandom {
  private state: number
  private spare: number | null = null

  constructor(seed: number) {
    this.state = seed >>> 0
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0
    let t = Math.imul(this.state ^ (this.state >>> 15), 1 | this.state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  uniform(min: number, max: number): number {
    return min + (max - min) * this.next()
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }

  chance(p: number): boolean {
    return this.next() < p
  }

  /** Standard normal (Box-Muller, the second value kept for the next call). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare
      this.spare = null
      return s
    }
    let u = 0
    while (u === 0) u = this.next()
    const v = this.next()
    const r = Math.sqrt(-2 * Math.log(u))
    this.spare = r * Math.sin(2 * Math.PI * v)
    return r * Math.cos(2 * Math.PI * v)
  }

  /** Log-normal with the given median and log-space sigma: the usual shape of latencies and sizes. */
  logNormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal())
  }

  exponential(mean: number): number {
    return -mean * Math.log(1 - this.next())
  }

  /** Poisson count (Knuth for small means, a rounded normal approximation above 30). */
  poisson(mean: number): number {
    if (mean <= 0) return 0
    if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.normal()))
    const limit = Math.exp(-mean)
    let k = 0
    let p = this.next()
    while (p > limit) {
      k += 1
      p *= this.next()
    }
    return k
  }

  /** Number of trials until the first success, mean 1 / p (>= 1). */
  geometric(mean: number): number {
    const p = 1 / Math.max(1, mean)
    return 1 + Math.floor(Math.log(1 - this.next()) / Math.log(1 - p + 1e-12))
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick: no items')
    return items[Math.floor(this.next() * items.length)] as T
  }

  /** One of `items` with probability proportional to its weight. */
  weighted<T>(items: readonly T[], weight: (item: T) => number): T {
    let total = 0
    for (const item of items) total += weight(item)
    let x = this.next() * total
    for (const item of items) {
      x -= weight(item)
      if (x < 0) return item
    }
    const last = items[items.length - 1]
    if (last === undefined) throw new Error('weighted: no items')
    return last
  }

  /** An index drawn by weight, from cumulative weights (ascending, last = total): O(log n) per draw. */
  indexByCumulative(cumulative: readonly number[]): number {
    const x = this.next() * (cumulative[cumulative.length - 1] ?? 0)
    let lo = 0
    let hi = cumulative.length - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if ((cumulative[mid] ?? 0) > x) hi = mid
      else lo = mid + 1
    }
    return lo
  }

  /** An RFC 4122 version-4-shaped UUID from this source (reproducible, unlike crypto.randomUUID). */
  uuid(): string {
    const hex: string[] = []
    for (let i = 0; i < 16; i++) {
      let byte = Math.floor(this.next() * 256)
      if (i === 6) byte = (byte & 0x0f) | 0x40
      if (i === 8) byte = (byte & 0x3f) | 0x80
      hex.push(byte.toString(16).padStart(2, '0'))
    }
    const h = hex.join('')
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
  }

  hex(length: number): string {
    let s = ''
    while (s.length < length) s += Math.floor(this.next() * 0x100000000).toString(16).padStart(8, '0')
    return s.slice(0, length)
  }
}
