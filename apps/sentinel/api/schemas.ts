/**
 * JSON schemas of the API's bodies, queries and responses. Fastify validates requests with them and
 * serializes responses through them, and @fastify/swagger builds the OpenAPI document from them, so
 * the document cannot drift from what the API does.
 */
import { FEEDBACK_LABELS } from '../anomaly-view.js'
import { errorSchema } from './errors.js'

export const nullable = (type: 'string' | 'number' | 'integer' | 'boolean') => ({ type: [type, 'null'] }) as const
export const SEVERITIES = ['info', 'warning', 'critical'] as const
const STATUSES = ['active', 'acknowledged', 'resolved', 'suppressed'] as const

export const anomalyEventSchema = {
  type: 'object',
  description: 'AnomalyEvent (schemas/anomaly/AnomalyEvent.avsc)',
  required: ['anomaly_id', 'timestamp', 'detector_id', 'severity', 'score', 'status'],
  properties: {
    anomaly_id: { type: 'string' },
    timestamp: { type: 'string', format: 'date-time' },
    detector_id: { type: 'string' },
    detector_type: { type: ['string', 'null'], enum: ['statistical', 'rule', 'ml', 'behavioral', null] },
    severity: { type: 'string', enum: SEVERITIES },
    score: { type: 'number' },
    status: { type: 'string', enum: STATUSES },
    application_id: nullable('string'),
    tenant_id: nullable('string'),
    title: nullable('string'),
    description: nullable('string'),
    affected_entity: {
      type: ['object', 'null'],
      properties: { type: nullable('string'), id: nullable('string'), name: nullable('string') },
    },
    metrics: {
      type: ['object', 'null'],
      properties: { baseline_value: nullable('number'), observed_value: nullable('number'), deviation: nullable('number'), threshold: nullable('number') },
    },
    context: {
      type: ['object', 'null'],
      properties: {
        window_start: nullable('string'),
        window_end: nullable('string'),
        sample_events: { type: 'array', items: { type: 'string' } },
        related_anomalies: { type: 'array', items: { type: 'string' } },
      },
    },
    actions_taken: {
      type: 'array',
      items: { type: 'object', properties: { action: { type: 'string' }, target: nullable('string'), status: { type: 'string' }, timestamp: nullable('string') } },
    },
    dimensions: {
      type: ['object', 'null'],
      description: "The detector's groupBy field and the group's value, e.g. {\"region\": \"eu-west-1\"}; null for anomalies written before dimensions existed.",
      additionalProperties: { type: 'string' },
    },
  },
} as const

export const feedbackEntrySchema = {
  type: 'object',
  required: ['anomaly_id', 'label', 'at'],
  properties: { type: { type: 'string' }, anomaly_id: { type: 'string' }, label: { type: 'string', enum: FEEDBACK_LABELS }, comment: nullable('string'), by: nullable('string'), at: { type: 'string' } },
} as const

/** An anomaly with its acknowledgement and feedback, as the view holds it. */
export const listedAnomalySchema = {
  type: 'object',
  required: ['anomaly', 'status', 'feedback'],
  properties: {
    anomaly: anomalyEventSchema,
    status: { type: 'string', enum: STATUSES },
    acknowledged_by: nullable('string'),
    acknowledged_at: nullable('string'),
    acknowledgement_note: nullable('string'),
    feedback: { type: 'array', items: feedbackEntrySchema },
  },
} as const

/** The `:id` path parameter of a view's entry. */
export const idParamsOf = (description: string) => ({ type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 200, description } } }) as const

export const anomalyIdParams = idParamsOf('anomaly_id')

/** A listing's query string: a time range, the view's own filter fields, limit and cursor. */
export const listQueryOf = <P extends Record<string, object>>(noun: string, filters: P) =>
  ({
    type: 'object',
    additionalProperties: false,
    properties: {
      from: { type: 'string', format: 'date-time', description: `${noun} at or after this time (ISO-8601)` },
      to: { type: 'string', format: 'date-time', description: `${noun} before this time (ISO-8601)` },
      ...filters,
      limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
      cursor: { type: 'string', minLength: 1, maxLength: 1000, description: 'next_cursor of the previous page (opaque)' },
    },
  }) as const

/** A public listing page of `item`s. */
export const pageSchemaOf = <I extends object>(item: I) =>
  ({
    type: 'object',
    required: ['items', 'next_cursor', 'partial'],
    properties: {
      items: { type: 'array', items: item },
      next_cursor: { type: ['string', 'null'], description: 'pass as `cursor` for the next page; null on the last page' },
      partial: { type: 'boolean', description: 'true when some instances did not answer: items of theirs are missing' },
      unavailable_hosts: { type: 'array', items: { type: 'string' } },
    },
  }) as const

/** One instance's page of `item`s (internal). */
export const localPageSchemaOf = <I extends object>(item: I) => ({ type: 'object', required: ['items', 'has_more'], properties: { items: { type: 'array', items: item }, has_more: { type: 'boolean' } } }) as const

export const anomalyListQuery = listQueryOf('anomalies detected', {
  severity: { type: 'string', enum: SEVERITIES },
  application_id: { type: 'string', minLength: 1 },
  detector_id: { type: 'string', minLength: 1 },
  status: { type: 'string', enum: STATUSES },
})

export const acknowledgeBody = {
  type: 'object',
  required: ['by'],
  additionalProperties: false,
  properties: { by: { type: 'string', minLength: 1, maxLength: 200 }, note: { type: 'string', maxLength: 2000 } },
} as const

export const acknowledgeResponse = {
  type: 'object',
  required: ['anomaly_id', 'status', 'acknowledged_by', 'acknowledged_at'],
  properties: { anomaly_id: { type: 'string' }, status: { type: 'string' }, acknowledged_by: { type: 'string' }, acknowledged_at: { type: 'string' }, note: nullable('string') },
} as const

export const feedbackBody = {
  type: 'object',
  required: ['anomaly_id', 'label'],
  additionalProperties: false,
  properties: {
    anomaly_id: { type: 'string', minLength: 1, maxLength: 200 },
    label: { type: 'string', enum: FEEDBACK_LABELS },
    comment: { type: 'string', maxLength: 2000 },
    by: { type: 'string', minLength: 1, maxLength: 200 },
  },
} as const

export const feedbackResponse = feedbackEntrySchema

export const detectBody = {
  type: 'object',
  required: ['detector_id', 'key', 'value'],
  additionalProperties: false,
  properties: {
    detector_id: { type: 'string', minLength: 1 },
    key: { type: 'string', minLength: 1, description: "the detector's groupBy key (application, model, user or tenant id)" },
    value: { type: 'number', description: "a window's aggregate of the detector's metric (e.g. mean latency_ms)" },
    timestamp: { type: 'string', format: 'date-time', description: 'when the value was observed; echoed back' },
  },
} as const

/** The /detect body of metrics: the metrics of one data point and who it is about. */
export const metricsDetectBody = {
  type: 'object',
  required: ['metrics'],
  additionalProperties: false,
  properties: {
    metrics: {
      type: 'object',
      minProperties: 1,
      maxProperties: 64,
      additionalProperties: { type: 'number' },
      description: 'metric name → value, e.g. {"latency_ms": 5200, "total_tokens": 900}; log_latency_ms, success_latency_ms and log_total_tokens are derived from latency_ms and total_tokens when not given',
    },
    context: {
      type: 'object',
      additionalProperties: false,
      properties: {
        application_id: { type: 'string', minLength: 1, maxLength: 128 },
        model: { type: 'string', minLength: 1, maxLength: 128 },
        user_id: { type: 'string', minLength: 1, maxLength: 128 },
        tenant_id: { type: 'string', minLength: 1, maxLength: 128 },
        detector_id: { type: 'string', minLength: 1, maxLength: 128, description: 'judge with this detector only' },
        timestamp: { type: 'string', format: 'date-time' },
      },
    },
  },
} as const

export const detectResponse = {
  type: 'object',
  required: ['detector_id', 'strategy', 'key', 'value', 'ready', 'anomalous', 'score', 'severity', 'deviation', 'threshold', 'baseline', 'reason'],
  properties: {
    detector_id: { type: 'string' },
    strategy: { type: 'string' },
    key: { type: 'string' },
    value: { type: 'number' },
    timestamp: { type: 'string' },
    ready: { type: 'boolean' },
    anomalous: { type: 'boolean' },
    score: { type: 'number' },
    severity: { type: ['string', 'null'], enum: [...SEVERITIES, null] },
    deviation: nullable('number'),
    threshold: nullable('number'),
    baseline: {
      type: ['object', 'null'],
      properties: { mean: nullable('number'), std: nullable('number'), n: { type: 'integer' }, last_window_start: nullable('string') },
    },
    reason: nullable('string'),
  },
} as const

/** The /detect answer to a body of metrics, with each detector's verdict in `results`. */
export const metricsDetectResponse = {
  type: 'object',
  required: ['is_anomaly', 'score', 'explanation', 'results'],
  properties: {
    is_anomaly: { type: 'boolean' },
    score: { type: 'number' },
    explanation: { type: 'string' },
    results: { type: 'array', items: detectResponse },
  },
} as const

export const slotQuery = {
  type: 'object',
  required: ['key'],
  additionalProperties: false,
  properties: { key: { type: 'string', minLength: 1 } },
} as const

export const detectorIdParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1 } },
} as const

export const slotResponse = {
  type: 'object',
  required: ['slot'],
  properties: { slot: { description: "the detector's stored slot for the key (operators/dsl DetectorSlot or QuantileSlot)" } },
} as const

export const detectorSchema = {
  type: 'object',
  required: ['id', 'type', 'strategy', 'groupBy', 'enabled', 'severity'],
  properties: {
    id: { type: 'string' },
    type: { type: 'string' },
    strategy: { type: 'string' },
    metric: nullable('string'),
    window: {
      type: ['object', 'null'],
      properties: { size_ms: { type: 'integer' }, grace_ms: { type: 'integer' }, aggregate: nullable('string'), kind: { type: 'string' } },
    },
    threshold: nullable('number'),
    groupBy: { type: 'string' },
    severity: { type: 'string' },
    enabled: { type: 'boolean' },
    description: nullable('string'),
    parameters: { type: 'object', additionalProperties: true, description: "the strategy's other settings" },
    false_positive_rate: { type: ['number', 'null'], description: 'of its anomalies with feedback, the share whose latest label is false_positive; null without feedback' },
    feedback_count: { type: 'integer', description: 'its anomalies with feedback (in the view, within its retention)' },
  },
} as const

export const telemetryBody = {
  description: 'An array of TelemetryEvent (components.schemas.TelemetryEvent), or { events: [...] }. Each event is validated on its own: invalid events are reported in `errors` and the rest accepted.',
  anyOf: [
    { type: 'array', minItems: 1, items: {} },
    { type: 'object', required: ['events'], additionalProperties: false, properties: { events: { type: 'array', minItems: 1, items: {} } } },
  ],
} as const

/**
 * The same body as the OpenAPI document shows it: items reference the TelemetryEvent component.
 * (Fastify validates with `telemetryBody`, whose items accept anything, so one bad event is
 * reported on its own instead of failing the batch.)
 */
export const telemetryBodyDocumented = {
  description: telemetryBody.description,
  anyOf: [
    { type: 'array', minItems: 1, items: { $ref: '#/components/schemas/TelemetryEvent' } },
    { type: 'object', required: ['events'], additionalProperties: false, properties: { events: { type: 'array', minItems: 1, items: { $ref: '#/components/schemas/TelemetryEvent' } } } },
  ],
} as const

export const ingestResponse = {
  type: 'object',
  required: ['accepted', 'rejected', 'duplicates', 'errors'],
  properties: {
    error: { type: 'string' },
    message: { type: 'string' },
    accepted: { type: 'integer', description: 'events written to the telemetry topic' },
    rejected: { type: 'integer', description: 'events refused; each is in errors' },
    duplicates: { type: 'integer', description: 'events dropped because this instance accepted their event_id recently (a retried batch); best effort, the topology deduplicates authoritatively' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['index', 'reason', 'issues'],
        properties: {
          index: { type: 'integer' },
          event_id: { type: 'string' },
          reason: { type: 'string', enum: ['invalid', 'too_far_ahead', 'too_far_behind'] },
          issues: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } },
        },
      },
    },
  },
} as const

/** 400 of the ingest route: every event invalid (with the per-event errors), or a bad request body. */
export const ingestRejectedResponse = {
  ...ingestResponse,
  description: 'an error; when events were read but none is valid, also accepted (0), rejected and errors as for 202',
  required: ['error', 'message'],
} as const

export { errorSchema }

/** Response schemas of the errors a route may answer, by status code. */
export const errors = (...codes: number[]): Record<number, typeof errorSchema> => Object.fromEntries(codes.map((c) => [c, errorSchema]))
