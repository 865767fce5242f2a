/**
 * What every OTLP receiver does with a decoded export request (traces or metrics), written once for
 * OTLP/HTTP (otlp-routes.ts) and OTLP/gRPC (otlp-grpc-server.ts): map the GenAI data to TelemetryEvents,
 * write them through the API's one ingest (telemetry-ingest.ts: validation, event-time bounds,
 * dedup, counting by protocol), and build the OTLP partial success, counting refused GenAI spans or
 * data points and quoting the first reasons. The transports only decode, authenticate and encode the answer.
 *
 * Errors are ApiErrors with HTTP status codes; the gRPC server maps them to gRPC codes.
 */
import type { FastifyBaseLogger } from 'fastify'
import { genAiMetricsToTelemetry } from '../otlp/genai-metric-mapping.js'
import { genAiSpansToTelemetry } from '../otlp/genai-span-mapping.js'
import type { MetricsPartialSuccess, OtlpMetricsRequest } from '../otlp/otlp-metrics-request.js'
import type { OtlpTraceRequest, PartialSuccess } from '../otlp/otlp-trace-request.js'
import type { TelemetryEvent } from '../../../schemas/telemetry/index.js'
import type { ApiContext } from './api-context.js'
import type { IngestProtocol } from './api-metrics.js'
import { ApiError } from './errors.js'
import type { EventError, IngestResult } from './telemetry-ingest.js'

/** Reasons quoted in partialSuccess.errorMessage; the rest are counted. */
const MAX_QUOTED_REASONS = 5

export type OtlpProtocol = Extract<IngestProtocol, 'otlp_http' | 'otlp_grpc'>

/** Who sent the request, for the ingest's log lines. */
export interface OtlpCaller {
  readonly id: string
  readonly log: FastifyBaseLogger
}

/** The first reasons, then how many more. */
export function quoteReasons(reasons: readonly string[]): string {
  return reasons.slice(0, MAX_QUOTED_REASONS).join(' | ') + (reasons.length > MAX_QUOTED_REASONS ? ` | and ${reasons.length - MAX_QUOTED_REASONS} more` : '')
}

/** An ingest refusal's issues, short, for errorMessage. */
const issuesText = (error: EventError): string => error.issues.map((i) => `${i.path.slice(0, 64)} ${i.message}`).join('; ')

/** Writes mapped events through the one ingest; a request with more than a batch's events is refused whole (413). */
async function writeMapped(
  ctx: ApiContext,
  events: readonly { readonly event: TelemetryEvent }[],
  caller: OtlpCaller,
  protocol: OtlpProtocol,
  tooMany: () => string,
): Promise<IngestResult | null> {
  if (events.length > ctx.maxBatchEvents) throw new ApiError(413, 'payload_too_large', tooMany())
  return events.length === 0
    ? null
    : ctx.ingest.ingest(
        events.map((e) => e.event),
        caller,
        protocol,
      )
}

/** GenAI spans → telemetry; null when every GenAI span was accepted (or was a duplicate). */
export async function ingestOtlpTraces(ctx: ApiContext, traces: OtlpTraceRequest, caller: OtlpCaller, protocol: OtlpProtocol): Promise<PartialSuccess | null> {
  const mapped = genAiSpansToTelemetry(traces)
  const result = await writeMapped(
    ctx,
    mapped.events,
    caller,
    protocol,
    () =>
      `the request has ${mapped.events.length / 2} GenAI spans (two events each); at most ${ctx.maxBatchEvents / 2} per request, lower the exporter's batch size (maxExportBatchSize)`,
  )
  // A GenAI span that could not be mapped is an invalid input like an invalid event.
  ctx.metrics.eventsRejected('invalid', mapped.rejected.length)
  const reasons = new Map<number, string>()
  for (const r of mapped.rejected) reasons.set(r.span, `span ${r.span} '${r.name}': ${r.message}`)
  for (const error of result?.errors ?? []) {
    const span = mapped.events[error.index]!.span
    if (!reasons.has(span)) reasons.set(span, `span ${span}: ${error.reason}: ${issuesText(error)}`)
  }
  caller.log.debug(
    {
      otlp: {
        protocol,
        spans: mapped.spans,
        genai_spans: mapped.spans - mapped.skipped,
        rejected_spans: reasons.size,
        accepted_events: result?.accepted ?? 0,
        duplicates: result?.duplicates ?? 0,
      },
    },
    'OTLP traces ingested',
  )
  return reasons.size === 0 ? null : { rejectedSpans: reasons.size, errorMessage: quoteReasons([...reasons.values()]) }
}

/** gen_ai.* delta points → llm.metric telemetry; null when every gen_ai.* point was accepted (or was a duplicate). */
export async function ingestOtlpMetrics(
  ctx: ApiContext,
  metrics: OtlpMetricsRequest,
  caller: OtlpCaller,
  protocol: OtlpProtocol,
): Promise<MetricsPartialSuccess | null> {
  const mapped = genAiMetricsToTelemetry(metrics)
  const result = await writeMapped(
    ctx,
    mapped.events,
    caller,
    protocol,
    () =>
      `the request has ${mapped.events.length} GenAI metric readings; at most ${ctx.maxBatchEvents} per request, export fewer series per request or more often`,
  )
  ctx.metrics.eventsRejected('invalid', mapped.rejected.length)
  const refused = new Set<number>(mapped.rejected.map((r) => r.point))
  // One line per distinct reason: a cumulative exporter refuses every point for the same reason.
  const reasons = new Map<string, number>()
  const note = (reason: string): void => {
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1)
  }
  for (const r of mapped.rejected) note(`metric '${r.metric}': ${r.message}`)
  for (const error of result?.errors ?? []) {
    const { point, event } = mapped.events[error.index]!
    if (refused.has(point)) continue
    refused.add(point)
    note(`metric '${(event.data as { metric_name: string }).metric_name.slice(0, 64)}': ${error.reason}: ${issuesText(error)}`)
  }
  ctx.metrics.metricPoints('ignored', mapped.ignored)
  ctx.metrics.metricPoints('refused', refused.size)
  ctx.metrics.metricPoints('accepted', mapped.points - mapped.ignored - refused.size)
  caller.log.debug(
    {
      otlp: {
        protocol,
        points: mapped.points,
        ignored_points: mapped.ignored,
        refused_points: refused.size,
        accepted_events: result?.accepted ?? 0,
        duplicates: result?.duplicates ?? 0,
      },
    },
    'OTLP metrics ingested',
  )
  return refused.size === 0
    ? null
    : { rejectedDataPoints: refused.size, errorMessage: quoteReasons([...reasons].map(([reason, n]) => (n > 1 ? `${reason} (${n} points)` : reason))) }
}
