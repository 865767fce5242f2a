/**
 * The one way telemetry enters through the API, whatever the protocol (POST /api/v1/telemetry/events,
 * OTLP's POST /v1/traces). Each event is judged on its own:
 * - validated (schemas/telemetry: unknown fields, wrong types, missing fields, impossible
 *   timestamps, over-long or unprintable ids are reported per event as `path: message`);
 * - its event time within the configured bounds of the wall clock (../event-time-bounds.ts);
 * - not already accepted by this instance (recent-event-ids.ts): such events are dropped and
 *   counted in `duplicates`, so a retried batch is not written twice. This is per instance and
 *   best effort; the detection topology deduplicates authoritatively.
 * The rest are written to the telemetry topic in one `send`, keyed by application_id (the
 * detection topology re-keys per detector group anyway; keying by application keeps one
 * application's events in order on one partition). An event is accepted or rejected whole, never
 * half-processed. A failed write is a 503 (ApiError) for the whole batch.
 */
import type { FastifyBaseLogger } from 'fastify'
import { SerdeError } from '../../../schemas/serde.js'
import { type TelemetryEvent, type TelemetryIssue, validateTelemetryEvent } from '../../../schemas/telemetry/index.js'
import type { OutgoingRecord } from '../../../runtime/streams-runtime.js'
import { type EventTimeBounds, eventTimeVerdict } from '../event-time-bounds.js'
import { RateLimitedWarning } from '../../../runtime/rate-limited-warning.js'
import type { StreamsRuntime } from '../../../runtime/streams-runtime.js'
import type { Serde } from '../../../schemas/serde.js'
import { type ApiMetrics, INGEST_PROTOCOL_HEADER, type IngestProtocol, type IngestRejection } from './api-metrics.js'
import type { RecentEventIds } from './recent-event-ids.js'
import type { RecentTelemetry } from './recent-telemetry.js'
import { type ApiError, unavailable } from './errors.js'

export interface EventError {
  readonly index: number
  readonly event_id?: string
  readonly reason: IngestRejection
  readonly issues: readonly TelemetryIssue[]
}

export interface IngestResult {
  readonly accepted: number
  readonly rejected: number
  readonly duplicates: number
  /** Sorted by index. */
  readonly errors: readonly EventError[]
}

/** One warning per reason and interval at most: a flood of bad events must not flood the log. */
const REJECTION_LOG_INTERVAL_MS = 10_000

function humanDuration(ms: number): string {
  const abs = Math.abs(ms)
  if (abs >= 86_400_000 * 2) return `${Math.round(abs / 86_400_000)} d`
  if (abs >= 3_600_000) return `${Math.round((abs / 3_600_000) * 10) / 10} h`
  if (abs >= 60_000) return `${Math.round((abs / 60_000) * 10) / 10} min`
  return `${Math.round(abs / 1000)} s`
}

function timeIssue(verdict: 'too_far_ahead' | 'too_far_behind', skewMs: number, bounds: EventTimeBounds): TelemetryIssue {
  return verdict === 'too_far_ahead'
    ? { path: 'timestamp', message: `is ${humanDuration(skewMs)} ahead of the server clock; at most ${humanDuration(bounds.maxAheadMs)} ahead is accepted (check the producer's clock and time zone)` }
    : { path: 'timestamp', message: `is ${humanDuration(skewMs)} behind the server clock; at most ${humanDuration(bounds.maxBehindMs ?? Number.POSITIVE_INFINITY)} behind is accepted (older data cannot reach windows already closed)` }
}

/** What the ingest counts: the API's metrics, or (in the ingest thread) a relay of them to the main thread. */
export type IngestMetrics = Pick<ApiMetrics, 'eventsAccepted' | 'eventsRejected'> & { readonly duplicates: { inc(n: number): void } }

export interface IngestContext {
  /** Where the valid events are written: the runtime, or (in the ingest thread) the main thread's runtime over a MessagePort. */
  readonly runtime: Pick<StreamsRuntime, 'send'>
  readonly telemetryTopic: string
  readonly telemetrySerde: Serde<TelemetryEvent>
  readonly eventTime: EventTimeBounds
  readonly recentEventIds: RecentEventIds
  /** The newest written events, the default sample of a detector dry run. */
  readonly recentTelemetry: Pick<RecentTelemetry, 'remember'>
  readonly metrics: IngestMetrics
  /** The wall clock. */
  readonly now: () => number
}

export class TelemetryIngest {
  private prepared: Promise<void> | undefined
  private readonly warnings: Record<IngestRejection, RateLimitedWarning>

  constructor(
    private readonly ctx: IngestContext,
    log: FastifyBaseLogger,
  ) {
    this.warnings = {
      invalid: new RateLimitedWarning(log, REJECTION_LOG_INTERVAL_MS, ctx.now),
      too_far_ahead: new RateLimitedWarning(log, REJECTION_LOG_INTERVAL_MS, ctx.now),
      too_far_behind: new RateLimitedWarning(log, REJECTION_LOG_INTERVAL_MS, ctx.now),
    }
  }

  /** Validates, bounds and deduplicates `events`, writes the rest; throws a 503 ApiError when the topic cannot be written. */
  async ingest(events: readonly unknown[], request: { readonly id: string; readonly log: FastifyBaseLogger }, protocol: IngestProtocol): Promise<IngestResult> {
    const { ctx } = this
    const now = ctx.now()
    const valid: { readonly index: number; readonly event: TelemetryEvent }[] = []
    const rejected: EventError[] = []
    const inBatch = new Set<string>()
    let duplicates = 0
    const reject = (index: number, event: unknown, reason: IngestRejection, issues: readonly TelemetryIssue[], fields: Record<string, unknown> = {}): void => {
      const id = typeof event === 'object' && event !== null ? (event as { event_id?: unknown }).event_id : undefined
      // An id that failed validation may be megabytes long; echo only ids that passed.
      const eventId = typeof id === 'string' && id.length <= 64 ? id : undefined
      rejected.push({ index, ...(eventId === undefined ? {} : { event_id: eventId }), reason, issues })
      this.warnings[reason].warn({ reason, protocol, index, ...(eventId === undefined ? {} : { event_id: eventId }), ...fields, issues: issues.slice(0, 5) }, `telemetry event rejected: ${reason}`)
    }
    const unavailableNow = (err: unknown): ApiError => {
      this.prepared = undefined
      // The cause (broker addresses and all) is for the log, not for the client.
      request.log.error({ err }, 'telemetry could not be written')
      return unavailable(`the telemetry topic '${ctx.telemetryTopic}' cannot be written right now; retry the batch (ingestion is at least once: a failed batch may be partly written; the cause is in the server log under request id ${request.id})`)
    }

    events.forEach((event, index) => {
      const result = validateTelemetryEvent(event)
      if (!result.ok) return reject(index, event, 'invalid', result.issues)
      const at = Date.parse(result.event.timestamp)
      const verdict = eventTimeVerdict(at, now, ctx.eventTime)
      if (verdict !== 'ok') return reject(index, event, verdict, [timeIssue(verdict, at - now, ctx.eventTime)], { application_id: result.event.application_id, skew_ms: at - now })
      const id = result.event.event_id
      if (inBatch.has(id) || ctx.recentEventIds.has(id, now)) {
        duplicates += 1
        return
      }
      inBatch.add(id)
      valid.push({ index, event: result.event })
    })

    const records: OutgoingRecord[] = []
    const encoded: TelemetryEvent[] = []
    if (valid.length > 0) {
      const serde = ctx.telemetrySerde
      this.prepared ??= serde.prepare?.(ctx.telemetryTopic) ?? Promise.resolve()
      try {
        await this.prepared
      } catch (err) {
        throw unavailableNow(err)
      }
      // One headers object for the batch: records and the log only read it.
      const headers = { [INGEST_PROTOCOL_HEADER]: protocol }
      for (const { index, event } of valid) {
        try {
          // The serde does not validate `event` again: it passed validateTelemetryEvent above (the brand in telemetry-validator.ts).
          records.push({ key: event.application_id, value: serde.serialize(event, ctx.telemetryTopic), headers })
          encoded.push(event)
        } catch (err) {
          // An event the topic's format cannot encode fails the same way on every retry: a 4xx
          // for that event, not a 503 for the batch.
          if (!(err instanceof SerdeError)) throw unavailableNow(err)
          reject(index, event, 'invalid', [{ path: '(event)', message: `cannot be encoded for the telemetry topic: ${err.message}` }])
        }
      }
    }
    rejected.sort((a, b) => a.index - b.index)
    for (const reason of ['invalid', 'too_far_ahead', 'too_far_behind'] as const) ctx.metrics.eventsRejected(reason, rejected.filter((r) => r.reason === reason).length)
    if (duplicates > 0) ctx.metrics.duplicates.inc(duplicates)
    if (encoded.length > 0) {
      try {
        await ctx.runtime.send(ctx.telemetryTopic, records)
      } catch (err) {
        throw unavailableNow(err)
      }
      ctx.recentEventIds.remember(encoded.map((e) => e.event_id), now)
      ctx.recentTelemetry.remember(encoded)
      ctx.metrics.eventsAccepted(encoded, protocol)
    }
    return { accepted: encoded.length, rejected: rejected.length, duplicates, errors: rejected }
  }
}
