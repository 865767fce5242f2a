/**
 * Event-time bounds: how far an event's time may stray from the wall clock and still be processed.
 *
 * Stream time only ever moves forward, and every windowed operator closes windows by it. One record
 * dated an hour ahead (a client with a skewed clock) would close every open window of its task for
 * an hour and drop everyone else's records as late; one dated ten years ahead would expire all
 * state. A source with bounds rejects such records before they touch stream time: they become bad
 * records (stage `timestamp`, dead-lettered with the reason under the default policy), so no single
 * record can change how the others are treated.
 */

export interface EventTimeBounds {
  /** How far ahead of the wall clock an event may be, in ms (e.g. 5 minutes for clock skew). */
  readonly maxAheadMs: number
  /**
   * How far behind the wall clock an event may be, in ms (e.g. the longest window retention: older
   * records could only be dropped as late). Absent: no lower bound (replays of old data).
   */
  readonly maxBehindMs?: number
}

export type EventTimeVerdict = 'ahead' | 'behind'

/** Why a record's event time was refused; the DLQ's error message says it in words. */
export class EventTimeOutOfBoundsError extends Error {
  constructor(
    readonly verdict: EventTimeVerdict,
    readonly eventTime: number,
    readonly wallClock: number,
    readonly boundMs: number,
  ) {
    const by = Math.abs(eventTime - wallClock)
    super(
      verdict === 'ahead'
        ? `event time ${isoOrNumber(eventTime)} is ${by} ms ahead of the wall clock (${isoOrNumber(wallClock)}); at most ${boundMs} ms ahead is accepted: check the producer's clock`
        : `event time ${isoOrNumber(eventTime)} is ${by} ms behind the wall clock (${isoOrNumber(wallClock)}); at most ${boundMs} ms behind is accepted`,
    )
    this.name = 'EventTimeOutOfBoundsError'
  }
}

function isoOrNumber(ms: number): string {
  const date = new Date(ms)
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString()
}

/** `undefined` when `eventTime` is within `bounds` of `wallClock`. */
export function eventTimeVerdict(eventTime: number, wallClock: number, bounds: EventTimeBounds): EventTimeVerdict | undefined {
  if (eventTime > wallClock + bounds.maxAheadMs) return 'ahead'
  if (bounds.maxBehindMs !== undefined && eventTime < wallClock - bounds.maxBehindMs) return 'behind'
  return undefined
}

/** Fails fast on bounds that are not non-negative finite milliseconds, naming the field. */
export function validateEventTimeBounds(bounds: EventTimeBounds, where: string): EventTimeBounds {
  const check = (field: keyof EventTimeBounds, value: unknown): void => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new Error(`${where}: eventTime.${field} must be a number of ms >= 0 (got ${String(value)}); e.g. { maxAheadMs: 300_000, maxBehindMs: 86_400_000 }`)
    }
  }
  check('maxAheadMs', bounds.maxAheadMs)
  if (bounds.maxBehindMs !== undefined) check('maxBehindMs', bounds.maxBehindMs)
  return bounds
}
