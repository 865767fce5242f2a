/**
 * How far an event's own time may be from the wall clock (the library's `EventTimeBounds`, whose
 * verdict the topology's source applies; here named as the API's rejection reasons). An event stamped an hour (or ten years)
 * ahead drags stream time forward: every window before it closes at once and every later event is
 * "late" and dropped, so one bad clock silences detection for everyone. An event days behind lands
 * in windows long closed. Both are refused where they enter: at the HTTP edge (telemetry-routes.ts)
 * and, with the same bounds, inside the topology.
 *
 * Pure on purpose: the caller passes the clock, so the verdict is testable and the same everywhere.
 */
import { type EventTimeBounds, eventTimeVerdict as libraryVerdict } from '../../topology/index.js'

export type { EventTimeBounds }

export const DEFAULT_EVENT_TIME_BOUNDS: EventTimeBounds = { maxAheadMs: 5 * 60_000, maxBehindMs: 24 * 3_600_000 }

/** `ok`, or why not; the reasons are the (bounded) values of the rejection counter's `reason` label. */
export type EventTimeVerdict = 'ok' | 'too_far_ahead' | 'too_far_behind'

export function eventTimeVerdict(eventTimeMs: number, nowMs: number, bounds: EventTimeBounds = DEFAULT_EVENT_TIME_BOUNDS): EventTimeVerdict {
  const verdict = libraryVerdict(eventTimeMs, nowMs, bounds)
  return verdict === undefined ? 'ok' : verdict === 'ahead' ? 'too_far_ahead' : 'too_far_behind'
}
