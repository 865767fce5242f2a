/**
 * TelemetryEvent: what LLM-Observatory (or any producer) sends to Sentinel — seed 001's JSON schema.
 *
 * The TS type is the JSON form (optional fields are absent, not null), because that is what producers
 * write at the edge. The Avro form (TelemetryEvent.avsc, inlined below) needs nullable fields, a
 * wrapped union for `data` and JSON text for the free-form `context`; `toAvroRecord` /
 * `fromAvroRecord` in telemetry-avro.ts convert, so users only ever see this type.
 *
 * Extensions to the seed (all optional, so every seed-valid event stays valid): ResponseData carries
 * `model` and `prompt_tokens`, because a response event is where latency, cost and token counts meet
 * and "latency spike per model" needs the model on that event.
 */
import type avro from 'avsc'

export const TELEMETRY_EVENT_TYPES = ['llm.request', 'llm.response', 'llm.error', 'llm.metric', 'llm.trace'] as const
export type TelemetryEventType = (typeof TELEMETRY_EVENT_TYPES)[number]

export const RESPONSE_STATUSES = ['success', 'error', 'timeout'] as const
export type ResponseStatus = (typeof RESPONSE_STATUSES)[number]

export const FINISH_REASONS = ['stop', 'length', 'content_filter', 'error'] as const
export type FinishReason = (typeof FINISH_REASONS)[number]

export const ENVIRONMENTS = ['dev', 'staging', 'prod'] as const
export type Environment = (typeof ENVIRONMENTS)[number]

export interface TelemetrySource {
  service: string
  host: string
  version?: string
}

export interface RequestParameters {
  temperature?: number
  max_tokens?: number
  top_p?: number
}

export interface RequestData {
  model: string
  /** The user prompt, possibly hashed for privacy. */
  prompt: string
  prompt_tokens?: number
  parameters?: RequestParameters
  context?: Record<string, unknown>
}

export interface ResponseData {
  status: ResponseStatus
  latency_ms: number
  /** The LLM response, possibly hashed. */
  response?: string
  completion_tokens?: number
  total_tokens?: number
  /** Estimated cost in USD. */
  cost?: number
  finish_reason?: FinishReason
  /** Extension: the model that answered (needed to group response metrics by model). */
  model?: string
  /** Extension: the prompt's tokens, so one response event has the whole token count. */
  prompt_tokens?: number
}

export interface MetricData {
  metric_name: string
  value: number
  unit?: string
  dimensions?: Record<string, string>
}

export type TelemetryPayload = RequestData | ResponseData | MetricData

export interface TelemetryMetadata {
  user_id?: string
  session_id?: string
  environment?: Environment
  tags?: Record<string, string>
}

export interface TelemetryEvent {
  /** UUID. */
  event_id: string
  /** RFC 3339 date-time with a time zone, years 1970-9999 (strictly checked: rfc3339-timestamp.ts). */
  timestamp: string
  source: TelemetrySource
  event_type: TelemetryEventType
  application_id: string
  tenant_id?: string
  correlation_id?: string
  data: TelemetryPayload
  metadata?: TelemetryMetadata
}

export type PayloadKind = 'request' | 'response' | 'metric'

/**
 * Which payload a (valid) event carries. llm.trace may carry any of the three, so the payload's own
 * required fields decide, in the same order the validator checks them.
 */
export function payloadKind(data: TelemetryPayload): PayloadKind {
  if ('metric_name' in data) return 'metric'
  if ('latency_ms' in data && 'status' in data) return 'response'
  return 'request'
}

export function isRequestData(data: TelemetryPayload): data is RequestData {
  return payloadKind(data) === 'request'
}

export function isResponseData(data: TelemetryPayload): data is ResponseData {
  return payloadKind(data) === 'response'
}

export function isMetricData(data: TelemetryPayload): data is MetricData {
  return payloadKind(data) === 'metric'
}

const nullableString = (name: string, doc?: string): avro.schema.RecordType['fields'][number] =>
  doc === undefined ? { name, type: ['null', 'string'], default: null } : { name, type: ['null', 'string'], default: null, doc }
const nullableOf = (name: string, type: string, doc?: string): avro.schema.RecordType['fields'][number] =>
  doc === undefined ? { name, type: ['null', type], default: null } : { name, type: ['null', type], default: null, doc }

/**
 * The Avro schema. TelemetryEvent.avsc beside this file is the same schema for other languages and the
 * Schema Registry (a test keeps the two equal); it is inlined so the built library needs no file
 * lookup at run time.
 */
export const telemetryEventSchema: avro.schema.RecordType = {
  type: 'record',
  name: 'TelemetryEvent',
  namespace: 'sentinel.telemetry',
  doc: 'LLM telemetry (LLM-Sentinel TelemetryEvent, seed 001). Times are ISO-8601 strings as in the seed\'s JSON schema. Constraints Avro cannot express (uuid, date-time, minimums, enums with dots) are checked by schemas/telemetry/telemetry-validator.ts on both serialize and deserialize.',
  fields: [
    { name: 'event_id', type: 'string', doc: 'UUID.' },
    { name: 'timestamp', type: 'string', doc: 'ISO-8601 date-time.' },
    {
      name: 'source',
      type: {
        type: 'record',
        name: 'TelemetrySource',
        fields: [
          { name: 'service', type: 'string' },
          { name: 'host', type: 'string' },
          nullableString('version'),
        ],
      },
    },
    { name: 'event_type', type: 'string', doc: 'One of llm.request, llm.response, llm.error, llm.metric, llm.trace (a string: Avro enum symbols cannot contain dots).' },
    { name: 'application_id', type: 'string' },
    nullableString('tenant_id'),
    nullableString('correlation_id'),
    {
      name: 'data',
      doc: 'The payload: RequestData for llm.request, ResponseData for llm.response and llm.error, MetricData for llm.metric, any of them for llm.trace.',
      type: [
        {
          type: 'record',
          name: 'RequestData',
          fields: [
            { name: 'model', type: 'string' },
            { name: 'prompt', type: 'string', doc: 'User prompt (may be hashed for privacy).' },
            nullableOf('prompt_tokens', 'long'),
            {
              name: 'parameters',
              type: [
                'null',
                {
                  type: 'record',
                  name: 'RequestParameters',
                  fields: [nullableOf('temperature', 'double'), nullableOf('max_tokens', 'long'), nullableOf('top_p', 'double')],
                },
              ],
              default: null,
            },
            nullableString('context', 'Free-form request context as JSON text (Avro has no free-form object).'),
          ],
        },
        {
          type: 'record',
          name: 'ResponseData',
          fields: [
            { name: 'status', type: { type: 'enum', name: 'ResponseStatus', symbols: [...RESPONSE_STATUSES] } },
            { name: 'latency_ms', type: 'double' },
            nullableString('response', 'LLM response (may be hashed).'),
            nullableOf('completion_tokens', 'long'),
            nullableOf('total_tokens', 'long'),
            nullableOf('cost', 'double', 'Estimated cost in USD.'),
            {
              name: 'finish_reason',
              type: ['null', { type: 'enum', name: 'FinishReason', symbols: [...FINISH_REASONS] }],
              default: null,
            },
            nullableString('model', 'Extension to the seed: the model that answered.'),
            nullableOf('prompt_tokens', 'long', 'Extension to the seed: the prompt\'s tokens.'),
          ],
        },
        {
          type: 'record',
          name: 'MetricData',
          fields: [
            { name: 'metric_name', type: 'string' },
            { name: 'value', type: 'double' },
            nullableString('unit'),
            { name: 'dimensions', type: ['null', { type: 'map', values: 'string' }], default: null },
          ],
        },
      ],
    },
    {
      name: 'metadata',
      type: [
        'null',
        {
          type: 'record',
          name: 'TelemetryMetadata',
          fields: [
            nullableString('user_id'),
            nullableString('session_id'),
            { name: 'environment', type: ['null', { type: 'enum', name: 'Environment', symbols: [...ENVIRONMENTS] }], default: null },
            { name: 'tags', type: ['null', { type: 'map', values: 'string' }], default: null },
          ],
        },
      ],
      default: null,
    },
  ],
}
