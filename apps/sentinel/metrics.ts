/**
 * The metrics detectors read from one TelemetryEvent. A metric an event does not carry is null (not
 * 0), so a window's mean latency is not dragged down by request events that have no latency.
 *
 * Counting: an LLM call usually arrives as an llm.request and then an llm.response (or llm.error).
 * `request_count` is 1 on the request event only and `response_count` 1 on the outcome event only, so
 * a call is counted once on each side; an error rate is `error / response_count`, both read from the
 * outcome events, whichever of them arrives.
 */
import { type TelemetryEvent, type TelemetryMetadata, isMetricData, isRequestData, isResponseData } from '../../schemas/telemetry/telemetry-event.js'
import { type FieldPath, fieldValue } from './telemetry-field-path.js'

export const TELEMETRY_METRICS = [
  'latency_ms',
  'success_latency_ms',
  'log_latency_ms',
  'prompt_tokens',
  'completion_tokens',
  'total_tokens',
  'log_total_tokens',
  'tokens_per_second',
  'cost',
  'error',
  'request_count',
  'response_count',
  'prompt_chars',
] as const
export type TelemetryMetricName = (typeof TELEMETRY_METRICS)[number]

/** `latency_ms` etc., or `metric:<metric_name>` for the value of an llm.metric event. */
export type MetricRef = TelemetryMetricName | `metric:${string}`

export interface TelemetryMetrics {
  readonly latency_ms: number | null
  /**
   * Latency of successful calls only: a failed call's latency is its timeout or its early
   * rejection, not the model's speed (one 30 s timeout among twenty 450 ms calls multiplies their
   * mean by four); failures are judged by the error metrics.
   */
  readonly success_latency_ms: number | null
  /** ln of success_latency_ms: a window's mean of it is the log of the geometric mean, robust to a long tail. */
  readonly log_latency_ms: number | null
  readonly prompt_tokens: number | null
  readonly completion_tokens: number | null
  /** data.total_tokens, else prompt + completion when both are known. */
  readonly total_tokens: number | null
  /** ln of total_tokens (> 0): a window's mean of it moves with the size of calls, not their number. */
  readonly log_total_tokens: number | null
  /** Generation speed: completion tokens (else total) per second of latency; null without latency > 0. */
  readonly tokens_per_second: number | null
  /** USD. */
  readonly cost: number | null
  /** 1 for a failed call (llm.error, or a response with status error or timeout), 0 for a successful one, null otherwise. */
  readonly error: number | null
  readonly request_count: number
  readonly response_count: number
  /** Length of the (possibly hashed) prompt: long-prompt bursts are a jailbreak signature. */
  readonly prompt_chars: number | null
  /** For llm.metric events: the reported metric. */
  readonly custom: { readonly name: string; readonly value: number } | null
}

export function isMetricRef(name: string): name is MetricRef {
  return (TELEMETRY_METRICS as readonly string[]).includes(name) || (name.startsWith('metric:') && name.length > 'metric:'.length)
}

export function telemetryMetrics(event: TelemetryEvent): TelemetryMetrics {
  const data = event.data
  if (isMetricData(data)) {
    return { ...NONE, custom: { name: data.metric_name, value: data.value } }
  }
  if (isRequestData(data)) {
    return { ...NONE, prompt_tokens: data.prompt_tokens ?? null, request_count: event.event_type === 'llm.request' ? 1 : 0, prompt_chars: data.prompt.length }
  }
  if (isResponseData(data)) {
    const prompt = data.prompt_tokens ?? null
    const completion = data.completion_tokens ?? null
    const total = data.total_tokens ?? (prompt !== null && completion !== null ? prompt + completion : null)
    const generated = completion ?? total
    const outcome = event.event_type === 'llm.response' || event.event_type === 'llm.error'
    const failed = event.event_type === 'llm.error' || data.status !== 'success'
    const succeeded = !failed && data.latency_ms > 0
    return {
      ...NONE,
      latency_ms: data.latency_ms,
      success_latency_ms: succeeded ? data.latency_ms : null,
      log_latency_ms: succeeded ? Math.log(data.latency_ms) : null,
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: total,
      log_total_tokens: total !== null && total > 0 ? Math.log(total) : null,
      tokens_per_second: generated !== null && data.latency_ms > 0 ? generated / (data.latency_ms / 1000) : null,
      cost: data.cost ?? null,
      error: failed ? 1 : 0,
      response_count: outcome ? 1 : 0,
    }
  }
  return NONE
}

const NONE: TelemetryMetrics = {
  latency_ms: null,
  success_latency_ms: null,
  log_latency_ms: null,
  prompt_tokens: null,
  completion_tokens: null,
  total_tokens: null,
  log_total_tokens: null,
  tokens_per_second: null,
  cost: null,
  error: null,
  request_count: 0,
  response_count: 0,
  prompt_chars: null,
  custom: null,
}

/** One metric of an event, or null when the event does not carry it. */
export function metricValue(metrics: TelemetryMetrics, ref: MetricRef): number | null {
  if (ref.startsWith('metric:')) {
    const name = ref.slice('metric:'.length)
    return metrics.custom !== null && metrics.custom.name === name ? metrics.custom.value : null
  }
  return metrics[ref as TelemetryMetricName]
}

/**
 * What a detector can key its state by. `host` is the reporting service's `source.host`; `region`
 * and `api_key` are read from the event's `metadata.tags` (a metric event's `dimensions` too), where
 * LLM-Observatory puts them: TelemetryEvent has no field of its own for either.
 */
export const GROUP_BY = ['application', 'model', 'user', 'tenant', 'host', 'region', 'api_key'] as const
export type GroupBy = (typeof GROUP_BY)[number]

/** What a detector groups by: a short name above, or any field path of TelemetryEvent (telemetry-field-path.ts). */
export type DetectorGroupBy = GroupBy | FieldPath

export const isShortGroupBy = (groupBy: string): groupBy is GroupBy => (GROUP_BY as readonly string[]).includes(groupBy)

/** The key of the records that lack a detector's group field, when the detector groups them (`missingGroup: group`). */
export const MISSING_GROUP_KEY = '(missing)'

/** The model of an event: request and (extended) response payloads carry it, a metric's `model` dimension too. */
export function eventModel(event: TelemetryEvent): string | null {
  const data = event.data
  if (isMetricData(data)) return data.dimensions?.model ?? null
  return ('model' in data ? data.model : undefined) ?? null
}

/** The event with `model` set on its payload (a request's or response's; a metric event is returned as is). */
export function withModel(event: TelemetryEvent, model: string): TelemetryEvent {
  if (isMetricData(event.data)) return event
  return { ...event, data: { ...event.data, model } }
}

/** The key an event is grouped by, or null when it lacks that dimension (e.g. no user_id). */
export function groupKey(event: TelemetryEvent, groupBy: DetectorGroupBy): string | null {
  if (!isShortGroupBy(groupBy)) return fieldValue(event, groupBy)
  const metadata: TelemetryMetadata = event.metadata ?? {}
  switch (groupBy) {
    case 'application':
      return event.application_id
    case 'model':
      return eventModel(event)
    case 'user':
      return metadata.user_id ?? null
    case 'tenant':
      return event.tenant_id ?? null
    case 'host':
      return event.source.host
    case 'region':
    case 'api_key':
      return metadata.tags?.[groupBy] ?? (isMetricData(event.data) ? event.data.dimensions?.[groupBy] : undefined) ?? null
  }
}
