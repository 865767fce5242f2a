/**
 * OpenTelemetry GenAI spans → TelemetryEvents (the mapping table is in apps/sentinel/README.md,
 * "OTLP input"). A span is one finished LLM call, so it becomes two events, as a producer of the
 * native format would send them: an `llm.request` at the span's start and its outcome
 * (`llm.response`, or `llm.error` when the span's status is ERROR) at its end, sharing a
 * correlation id. Counting detectors (request_count) then see OTLP calls like any others.
 *
 * Only spans with a `gen_ai.*` attribute are LLM calls; the other spans of an exported trace (HTTP
 * handlers, database calls) are skipped without complaint. A GenAI span that cannot become events
 * (no model, no ids, no times) is rejected with the reason, and the rest of the request goes on.
 *
 * Event ids are UUIDv5 of (trace id, span id, side), so an exporter's retry of the same spans yields
 * the same ids and is dropped as a duplicate by the API and the topology.
 */
import { FINISH_REASONS, type FinishReason, type RequestParameters, type TelemetryEvent } from '../../../schemas/telemetry/index.js'
import { uuidV5 } from '../alerting/alert-id.js'
import { type Attributes, attributes, count, eventOrigin, isGenAi, iso, nanos, real, text } from './otlp-attributes.js'
import { type OtlpSpan, type OtlpTraceRequest, STATUS_CODE_ERROR } from './otlp-trace-request.js'

/** Namespace of the event ids made from spans (a fixed random UUID). */
const OTLP_EVENT_NAMESPACE = '6f0c2a8e-51b4-4d7e-9a3c-2e8f1b7d4c90'

export interface MappedEvent {
  readonly event: TelemetryEvent
  /** Position of the span in the request (resource, scope and span order), for partial-success counts. */
  readonly span: number
}

export interface SpanRejection {
  readonly span: number
  readonly name: string
  readonly message: string
}

export interface MappedSpans {
  readonly events: readonly MappedEvent[]
  readonly rejected: readonly SpanRejection[]
  /** Spans without gen_ai.* attributes: not LLM calls, not Sentinel's to judge. */
  readonly skipped: number
  readonly spans: number
}

function finishReason(attrs: Attributes): FinishReason | undefined {
  const reasons = attrs.get('gen_ai.response.finish_reasons')
  const first = Array.isArray(reasons) ? reasons[0] : reasons
  return typeof first === 'string' && (FINISH_REASONS as readonly string[]).includes(first) ? (first as FinishReason) : undefined
}

function parameters(attrs: Attributes): RequestParameters | undefined {
  const temperature = real(attrs, 'gen_ai.request.temperature')
  const maxTokens = count(attrs, 'gen_ai.request.max_tokens')
  const topP = real(attrs, 'gen_ai.request.top_p')
  const out: RequestParameters = {
    ...(temperature === undefined ? {} : { temperature }),
    ...(maxTokens === undefined ? {} : { max_tokens: maxTokens }),
    ...(topP === undefined ? {} : { top_p: topP }),
  }
  return Object.keys(out).length === 0 ? undefined : out
}

/** The span's two events, or the reason it has none. */
function spanEvents(span: OtlpSpan, attrs: Attributes, resource: Attributes): TelemetryEvent[] | string {
  const traceId = typeof span.traceId === 'string' ? span.traceId.toLowerCase() : ''
  const spanId = typeof span.spanId === 'string' ? span.spanId.toLowerCase() : ''
  if (!/^[0-9a-f]{32}$/.test(traceId) || !/^[0-9a-f]{16}$/.test(spanId)) return 'traceId (32 hex digits) and spanId (16 hex digits) are required'
  const requestModel = text(['gen_ai.request.model'], attrs)
  const model = text(['gen_ai.response.model'], attrs) ?? requestModel
  if (model === undefined) return 'a GenAI span needs gen_ai.request.model or gen_ai.response.model'
  const start = nanos(span.startTimeUnixNano)
  const end = nanos(span.endTimeUnixNano)
  if (start === null || end === null || end < start) return 'startTimeUnixNano and endTimeUnixNano are required, end not before start'

  const origin = eventOrigin(attrs, resource)
  if (typeof origin === 'string') return origin
  const common = { ...origin, correlation_id: `${traceId}-${spanId}` }
  const inputTokens = count(attrs, 'gen_ai.usage.input_tokens', 'gen_ai.usage.prompt_tokens')
  const outputTokens = count(attrs, 'gen_ai.usage.output_tokens', 'gen_ai.usage.completion_tokens')
  const failed = span.status?.code === STATUS_CODE_ERROR
  const errorType = text(['error.type'], attrs)
  const finish = finishReason(attrs)
  const params = parameters(attrs)
  const id = (side: string): string => uuidV5(OTLP_EVENT_NAMESPACE, `${traceId}:${spanId}:${side}`)
  return [
    {
      ...common,
      event_id: id('request'),
      timestamp: iso(start),
      event_type: 'llm.request',
      // GenAI spans carry message content only when capture is switched on; Sentinel takes none.
      data: {
        model: requestModel ?? model,
        prompt: '',
        ...(inputTokens === undefined ? {} : { prompt_tokens: inputTokens }),
        ...(params === undefined ? {} : { parameters: params }),
      },
    },
    {
      ...common,
      event_id: id('outcome'),
      timestamp: iso(end),
      event_type: failed ? 'llm.error' : 'llm.response',
      data: {
        status: failed ? (/timeout|timed.?out|deadline/i.test(`${errorType ?? ''} ${span.status?.message ?? ''}`) ? 'timeout' : 'error') : 'success',
        latency_ms: Number(end - start) / 1e6,
        model,
        ...(inputTokens === undefined ? {} : { prompt_tokens: inputTokens }),
        ...(outputTokens === undefined ? {} : { completion_tokens: outputTokens }),
        ...(inputTokens !== undefined && outputTokens !== undefined ? { total_tokens: inputTokens + outputTokens } : {}),
        ...(finish === undefined ? (failed ? { finish_reason: 'error' as const } : {}) : { finish_reason: finish }),
      },
    },
  ]
}

/** Every GenAI span of the request as events; the others skipped; the unusable ones rejected. */
export function genAiSpansToTelemetry(request: OtlpTraceRequest): MappedSpans {
  const events: MappedEvent[] = []
  const rejected: SpanRejection[] = []
  let skipped = 0
  let index = 0
  for (const resourceSpans of Array.isArray(request.resourceSpans) ? request.resourceSpans : []) {
    const resource = attributes(resourceSpans?.resource?.attributes)
    for (const scopeSpans of Array.isArray(resourceSpans?.scopeSpans) ? resourceSpans.scopeSpans : []) {
      for (const span of Array.isArray(scopeSpans?.spans) ? scopeSpans.spans : []) {
        const position = index++
        const attrs = typeof span === 'object' && span !== null ? attributes(span.attributes) : new Map()
        if (!isGenAi(attrs)) {
          skipped++
          continue
        }
        const mapped = spanEvents(span, attrs, resource)
        if (typeof mapped === 'string') rejected.push({ span: position, name: typeof span.name === 'string' ? span.name.slice(0, 64) : '', message: mapped })
        else for (const event of mapped) events.push({ event, span: position })
      }
    }
  }
  return { events, rejected, skipped, spans: index }
}
