/**
 * The time a view's retention goes by: the highest record time it has seen, but never more than
 * `maxAheadMs` past the wall clock. Retention by event time alone lets one record dated years ahead
 * make every stored entry "old" and purge the view (and refuse everything after it as too old); a
 * wall-clock bound keeps that from any input, while replays of old data (event times far behind the
 * wall clock) still age the view by their own times.
 */
export const DEFAULT_VIEW_MAX_AHEAD_MS = 5 * 60_000

export class ViewTime {
  private time = -1

  constructor(
    private readonly wallClock: () => number,
    private readonly maxAheadMs = DEFAULT_VIEW_MAX_AHEAD_MS,
  ) {}

  /** The view time (-1 before the first record). */
  get now(): number {
    return this.time
  }

  /** Moves view time to `eventTime`, capped at the wall clock plus the bound; returns the capped time. */
  observe(eventTime: number): number {
    const capped = Math.min(eventTime, this.wallClock() + this.maxAheadMs)
    if (capped > this.time) this.time = capped
    return capped
  }
}
