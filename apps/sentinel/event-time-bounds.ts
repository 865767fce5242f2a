/**
 * How far an event's own time may be from the wall clock. An event stamped an hour (or ten years)
 * ahead drags stream time forward: every window before it closes at once and every later event is
 * "late" and dropped, so one bad clock silences detection for everyone. An event days behind lands
 * in windows long closed. Both are refused where they enter: at the HTTP edge (telemetry-routes.ts)
 * and, with the same bounds, inside the topology.
 *
 * Pure on purpose: the caller passes the clock, so the verdict is testable and the same everywhere.
 */

export interface EventTimeBounds {
  /** Largest lead of the event time over the wall clock, ms. */
  readonly maxAheadMs: number
  /** Largest lag of the event time behind the wall clock, ms. */
  readonly maxBehindMs: number
}

export const DEFAULT_EVENT_TIME_BOUNDS: EventTimeBounds = { maxAheadMs: 5 * 60_000, maxBehindMs: 24 * 3_600_000 }

/** `ok`, or why not; the reasons are the (bounded) values of the rejection counter's `reason` label. */
export type EventTimeVerdict = 'ok' | 'too_far_ahead' | 'too_far_behind'

export function eventTimeVerdict(eventTimeMs: number, nowMs: number, bounds: EventTimeBounds = DEFAULT_EVENT_TIME_BOUNDS): EventTimeVerdict {
  if (eventTimeMs - nowMs > bounds.maxAheadMs) return 'too_far_ahead'
  if (nowMs - eventTimeMs > bounds.maxBehindMs) return 'too_far_behind'
  return 'ok'
}
