/**
 * The event ids this API instance accepted recently, so a retried batch can be answered with how
 * many of its events were duplicates and those are not written again.
 *
 * This is a courtesy to clients, not the deduplication: it is per instance, in memory, forgotten on
 * restart and bounded (the oldest ids go first once `maxIds` is reached, and ids older than
 * `horizonMs` are forgotten). A retry that reaches another instance, or comes after a restart, is
 * written again; the detection topology drops (and logs) duplicates authoritatively.
 *
 * A Map keeps insertion order, which is acceptance order: the oldest entries are at the front, so
 * both the cap and the horizon evict from the front in O(1) per id.
 */
export interface RecentEventIdsOptions {
  readonly maxIds: number
  readonly horizonMs: number
}

export const DEFAULT_RECENT_EVENT_IDS: RecentEventIdsOptions = { maxIds: 200_000, horizonMs: 24 * 3_600_000 }

export class RecentEventIds {
  private readonly acceptedAt = new Map<string, number>()

  constructor(private readonly options: RecentEventIdsOptions = DEFAULT_RECENT_EVENT_IDS) {
    if (!(Number.isSafeInteger(options.maxIds) && options.maxIds >= 0)) throw new Error(`RecentEventIds: maxIds must be a non-negative integer, got ${options.maxIds}`)
    if (!(options.horizonMs >= 0)) throw new Error(`RecentEventIds: horizonMs must be >= 0, got ${options.horizonMs}`)
  }

  get size(): number {
    return this.acceptedAt.size
  }

  has(id: string, nowMs: number): boolean {
    this.forgetOlderThan(nowMs - this.options.horizonMs)
    return this.acceptedAt.has(id)
  }

  /** Records ids once they are written (never before: a failed write must stay retryable). */
  remember(ids: Iterable<string>, nowMs: number): void {
    if (this.options.maxIds === 0) return
    for (const id of ids) {
      this.acceptedAt.delete(id) // re-inserted at the back: its horizon starts again
      this.acceptedAt.set(id, nowMs)
      if (this.acceptedAt.size > this.options.maxIds) this.acceptedAt.delete(this.acceptedAt.keys().next().value!)
    }
  }

  private forgetOlderThan(cutoff: number): void {
    for (const [id, at] of this.acceptedAt) {
      if (at >= cutoff) return
      this.acceptedAt.delete(id)
    }
  }
}
