/**
 * What every OTLP receiver does with a decoded export request, written once for OTLP/HTTP
 * (otlp-routes.ts) and OTLP/gRPC (otlp-grpc-server.ts): map the GenAI data to TelemetryEvents,
 * write them through the API's one ingest (telemetry-ingest.ts: validation, event-time bounds,
 * dedup, counting by protocol), and build the OTLP partial success, counting refused GenAI spans and
 * quoting the first reasons. The transports only decode, authenticate and encode the answer.
 *
 * Errors are ApiErrors with HTTP status codes; the gRPC server maps them to gRPC codes.
 */
import type { FastifyBaseLogger } from 'fastify'
import { genAiSpansToTelemetry } from '../otlp/genai-span-mapping.js'
import type { OtlpTraceRequest, PartialSuccess } from '../otlp/otlp-trace-request.js'
import type { ApiContext } from './api-context.js'
import type { IngestProtocol } from './api-metrics.js'
import { ApiError } from './errors.js'

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

/** GenAI spans → telemetry; null when every GenAI span was accepted (or was a duplicate). */
export async function ingestOtlpTraces(ctx: ApiContext, traces: OtlpTraceRequest, caller: OtlpCaller, protocol: OtlpProtocol): Promise<PartialSuccess | null> {
  const mapped = genAiSpansToTelemetry(traces)
  if (mapped.events.length > ctx.maxBatchEvents) {
    throw new ApiError(
      413,
      'payload_too_large',
      `the request has ${mapped.events.length / 2} GenAI spans (two events each); at most ${ctx.maxBatchEvents / 2} per request, lower the exporter's batch size (maxExportBatchSize)`,
    )
  }
  const result =
    mapped.events.length === 0
      ? null
      : await ctx.ingest.ingest(
          mapped.events.map((e) => e.event),
          caller,
          protocol,
        )
  // A GenAI span that could not be mapped is an invalid input like an invalid event.
  ctx.metrics.eventsRejected('invalid', mapped.rejected.length)
  const reasons = new Map<number, string>()
  for (const r of mapped.rejected) reasons.set(r.span, `span ${r.span} '${r.name}': ${r.message}`)
  for (const error of result?.errors ?? []) {
    const span = mapped.events[error.index]!.span
    if (!reasons.has(span)) reasons.set(span, `span ${span}: ${error.reason}: ${error.issues.map((i) => `${i.path.slice(0, 64)} ${i.message}`).join('; ')}`)
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
