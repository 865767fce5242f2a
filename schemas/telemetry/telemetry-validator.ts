/**
 * The edge check for TelemetryEvent JSON (ajv, JSON Schema draft-07). It mirrors seed 001's schema
 * with two deliberate differences:
 * - `data` is chosen by `event_type` (if/then) instead of the seed's bare `oneOf`, so a bad payload
 *   gets the error of the payload it should have been (`data.latency_ms: must be a number >= 0`)
 *   rather than "must match exactly one schema";
 * - unknown fields are rejected: the Avro form could not carry them, so accepting them would drop
 *   data silently.
 * And it bounds what the seed leaves open, because the serdes run this check on Kafka input too
 * and every id ends up in metric labels, store keys and logs: timestamps are strict RFC 3339 that
 * round-trip (rfc3339-timestamp.ts), ids and labels are short printable text, maps have few entries
 * and `data.context` is shallow (checked without recursion, schemas/json-depth.ts).
 * Validation never mutates the input (no defaults, no coercion, no removal), so an event is either
 * accepted whole or rejected whole.
 */
import { Ajv, type ErrorObject } from 'ajv'
import addFormatsModule, { type FormatsPlugin } from 'ajv-formats'
import { jsonValueDepth } from '../json-depth.js'
import { timestampProblem } from './rfc3339-timestamp.js'
import { ENVIRONMENTS, FINISH_REASONS, RESPONSE_STATUSES, TELEMETRY_EVENT_TYPES, type TelemetryEvent } from './telemetry-event.js'

/**
 * Ids and names become Prometheus labels, state-store keys and log fields: an unbounded one (a
 * 1 MB application_id) is kept for the life of the process in each of them. So every identifier
 * is short printable text: no control, format, private-use or unassigned characters (`\p{C}`),
 * no line or paragraph separators.
 */
export const MAX_ID_LENGTH = 128
/** Free-text map values (tags, dimensions) are a little longer than ids, but bounded too. */
export const MAX_TAG_VALUE_LENGTH = 256
export const MAX_MAP_ENTRIES = 64
/** data.context is free-form; nesting beyond this is refused (see schemas/json-depth.ts). */
export const MAX_CONTEXT_DEPTH = 32

const PRINTABLE = '^[^\\p{C}\\p{Zl}\\p{Zp}]*$'
const identifier = { type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH, pattern: PRINTABLE }
const optionalText = { type: 'string', maxLength: MAX_ID_LENGTH, pattern: PRINTABLE }
// Counts are Avro longs: beyond 2^53 - 1 a JSON number is no longer an exact integer and Avro refuses it.
const count = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER }
const amount = { type: 'number', minimum: 0 }
const stringMap = {
  type: 'object',
  maxProperties: MAX_MAP_ENTRIES,
  propertyNames: { maxLength: MAX_ID_LENGTH, pattern: PRINTABLE },
  additionalProperties: { type: 'string', maxLength: MAX_TAG_VALUE_LENGTH, pattern: PRINTABLE },
}

const requestData = {
  type: 'object',
  required: ['model', 'prompt'],
  additionalProperties: false,
  properties: {
    model: identifier,
    prompt: { type: 'string' },
    prompt_tokens: count,
    parameters: {
      type: 'object',
      additionalProperties: false,
      properties: { temperature: { type: 'number' }, max_tokens: count, top_p: { type: 'number' } },
    },
    context: { type: 'object', 'x-max-depth': MAX_CONTEXT_DEPTH },
  },
}

const responseData = {
  type: 'object',
  required: ['status', 'latency_ms'],
  additionalProperties: false,
  properties: {
    status: { type: 'string', enum: [...RESPONSE_STATUSES] },
    latency_ms: amount,
    response: { type: 'string' },
    completion_tokens: count,
    total_tokens: count,
    cost: amount,
    finish_reason: { type: 'string', enum: [...FINISH_REASONS] },
    model: identifier,
    prompt_tokens: count,
  },
}

const metricData = {
  type: 'object',
  required: ['metric_name', 'value'],
  additionalProperties: false,
  properties: {
    metric_name: identifier,
    value: { type: 'number' },
    unit: optionalText,
    dimensions: stringMap,
  },
}

const eventTypeIs = (...types: string[]) => ({ properties: { event_type: { enum: types } }, required: ['event_type'] })

/** The JSON Schema the edge validates against (exported for the OpenAPI document). */
export const telemetryEventJsonSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'TelemetryEvent',
  type: 'object',
  required: ['event_id', 'timestamp', 'source', 'event_type', 'application_id', 'data'],
  additionalProperties: false,
  properties: {
    event_id: { type: 'string', format: 'uuid' },
    timestamp: { type: 'string', format: 'date-time' },
    source: {
      type: 'object',
      required: ['service', 'host'],
      additionalProperties: false,
      properties: { service: identifier, host: identifier, version: optionalText },
    },
    event_type: { type: 'string', enum: [...TELEMETRY_EVENT_TYPES] },
    application_id: identifier,
    tenant_id: identifier,
    correlation_id: identifier,
    data: { type: 'object' },
    metadata: {
      type: 'object',
      additionalProperties: false,
      properties: {
        user_id: identifier,
        session_id: identifier,
        environment: { type: 'string', enum: [...ENVIRONMENTS] },
        tags: stringMap,
      },
    },
  },
  allOf: [
    { if: eventTypeIs('llm.request'), then: { properties: { data: requestData } } },
    { if: eventTypeIs('llm.response', 'llm.error'), then: { properties: { data: responseData } } },
    { if: eventTypeIs('llm.metric'), then: { properties: { data: metricData } } },
    { if: eventTypeIs('llm.trace'), then: { properties: { data: { anyOf: [metricData, responseData, requestData] } } } },
  ],
} as const

export interface TelemetryIssue {
  /** Dotted path of the field, e.g. `data.latency_ms`; `(event)` for the event itself. */
  readonly path: string
  /** What is wrong, phrased as what it must be. */
  readonly message: string
}

export type TelemetryValidation = { readonly ok: true; readonly event: TelemetryEvent } | { readonly ok: false; readonly issues: readonly TelemetryIssue[] }

export class TelemetryValidationError extends Error {
  constructor(readonly issues: readonly TelemetryIssue[]) {
    super(`invalid TelemetryEvent: ${formatIssues(issues)}`)
    this.name = 'TelemetryValidationError'
  }
}

export function formatIssues(issues: readonly TelemetryIssue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join('; ')
}

// ajv-formats is CJS with a default export; under NodeNext its callable sits on `.default`.
const addFormats = (addFormatsModule as unknown as { default: FormatsPlugin }).default

/**
 * Two compilations of the one schema: `passes` stops at the first error and keeps no error data,
 * which makes the common case (a valid event) ~30% cheaper; `explain` collects every error with its
 * schema and data, and runs only for an event that failed, to word the issues.
 */
function compiled(errors: 'first' | 'all') {
  const ajv = new Ajv({ allErrors: errors === 'all', verbose: errors === 'all', strict: true, strictRequired: false, allowUnionTypes: false })
  addFormats(ajv, ['uuid'])
  // The schema keeps the standard format name (OpenAPI readers know it); the check is the strict one.
  ajv.addFormat('date-time', { type: 'string', validate: (text: string) => timestampProblem(text) === null })
  ajv.addKeyword({ keyword: 'x-max-depth', type: 'object', schemaType: 'number', errors: false, validate: (max: number, data: unknown) => jsonValueDepth(data, max) <= max })
  return ajv.compile(telemetryEventJsonSchema)
}
const passes = compiled('first')
const explain = compiled('all')

/**
 * Every object that passed `validateTelemetryEvent` in this process: the brand the telemetry serdes
 * read so an event the HTTP edge has just validated is not checked a second time when it is
 * serialized for the telemetry topic (that second check was a quarter of a request's CPU). Kept by
 * identity (a WeakSet: nothing outlives the event). The brand means "this object passed as it is";
 * validation never mutates, and no code in the project changes an event after it; code that did
 * would have to validate again.
 */
const validated = new WeakSet<object>()

/** True when `value` is an object that passed `validateTelemetryEvent` (see `validated`). */
export function wasValidated(value: unknown): value is TelemetryEvent {
  return typeof value === 'object' && value !== null && validated.has(value)
}

/** Field names are echoed in issues; an attacker's 1 MB key must not come back 1 MB long. */
const PATH_PART_MAX = 64
const shortened = (part: string): string => (part.length > PATH_PART_MAX ? `${part.slice(0, PATH_PART_MAX)}…` : part)

function dotted(instancePath: string, child?: string): string {
  const parts = instancePath.split('/').filter((p) => p.length > 0).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
  if (child !== undefined) parts.push(child)
  return parts.length === 0 ? '(event)' : parts.map(shortened).join('.')
}

const article = (type: string): string => (/^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`)

function issueOf(error: ErrorObject): TelemetryIssue | null {
  const parent = (error.parentSchema ?? {}) as { type?: string; minimum?: number; enum?: readonly string[] }
  const path = dotted(error.instancePath)
  switch (error.keyword) {
    case 'required':
      return { path: dotted(error.instancePath, (error.params as { missingProperty: string }).missingProperty), message: 'is required' }
    case 'additionalProperties':
      return { path: dotted(error.instancePath, (error.params as { additionalProperty: string }).additionalProperty), message: 'is not a known field (remove it)' }
    case 'type':
    case 'minimum':
      if ((parent.type === 'number' || parent.type === 'integer') && parent.minimum !== undefined) return { path, message: `must be ${article(parent.type)} >= ${parent.minimum}` }
      return { path, message: `must be ${article(String((error.params as { type?: string }).type ?? parent.type))}` }
    case 'maximum':
      return { path, message: `must be at most ${(error.params as { limit: number }).limit}` }
    case 'enum':
      return { path, message: `must be one of ${(parent.enum ?? []).join(', ')}` }
    case 'format': {
      const format = (error.params as { format: string }).format
      if (format === 'date-time') return { path, message: timestampProblem(String(error.data)) ?? 'must be an RFC 3339 date-time with a time zone' }
      return { path, message: `must be a ${format}` }
    }
    case 'minLength':
      return { path, message: 'must not be empty' }
    case 'maxLength':
      return { path, message: `must be at most ${(error.params as { limit: number }).limit} characters (got ${[...String(error.data)].length})` }
    case 'pattern':
      return { path, message: 'must be printable text: no control characters, line breaks or invisible formatting characters' }
    case 'maxProperties':
      return { path, message: `must have at most ${(error.params as { limit: number }).limit} entries` }
    case 'propertyNames':
      return { path: dotted(error.instancePath, (error.params as { propertyName: string }).propertyName), message: `is not an acceptable key: keys must be at most ${MAX_ID_LENGTH} printable characters` }
    case 'x-max-depth':
      return { path, message: `must not be nested more than ${MAX_CONTEXT_DEPTH} levels deep` }
    case 'anyOf':
      return { path, message: 'must be a RequestData, ResponseData or MetricData payload' }
    case 'if':
      return null // the failing `then` branch has already said what is wrong
    default:
      return { path, message: error.message ?? 'is invalid' }
  }
}

function issuesOf(errors: readonly ErrorObject[]): TelemetryIssue[] {
  // llm.trace payloads fail every anyOf branch; the per-branch noise hides the one useful line.
  const anyOfPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath))
  const seen = new Set<string>()
  const issues: TelemetryIssue[] = []
  for (const error of errors) {
    if (error.keyword !== 'anyOf' && [...anyOfPaths].some((p) => error.instancePath.startsWith(p) && error.schemaPath.includes('/anyOf/'))) continue
    // The propertyNames error that follows says it for the key as a whole.
    if ((error as { propertyName?: string }).propertyName !== undefined) continue
    const issue = issueOf(error)
    if (!issue) continue
    const key = `${issue.path}\u0000${issue.message}`
    if (seen.has(key)) continue
    seen.add(key)
    issues.push(issue)
  }
  return issues
}

/** Checks a parsed JSON value; never mutates it. */
export function validateTelemetryEvent(value: unknown): TelemetryValidation {
  if (passes(value)) {
    validated.add(value as object)
    return { ok: true, event: value as TelemetryEvent }
  }
  // The two compilations agree; should they not, the thorough one decides rather than an empty list of issues.
  if (explain(value)) {
    validated.add(value as object)
    return { ok: true, event: value as TelemetryEvent }
  }
  return { ok: false, issues: issuesOf(explain.errors ?? []) }
}

export function isTelemetryEvent(value: unknown): value is TelemetryEvent {
  return passes(value)
}

/** The event, or a TelemetryValidationError listing every issue. */
export function parseTelemetryEvent(value: unknown): TelemetryEvent {
  const result = validateTelemetryEvent(value)
  if (!result.ok) throw new TelemetryValidationError(result.issues)
  return result.event
}
