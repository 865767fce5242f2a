/**
 * TelemetryEvent ↔ its Avro record. The Avro form has nulls where JSON omits a field, a wrapped
 * union for `data` ({ 'sentinel.telemetry.ResponseData': {...} }) and `context` as JSON text; this
 * module is the only place that knows, so the rest of the app sees one TelemetryEvent shape.
 */
import avro from 'avsc'
import { type TelemetryEvent, type TelemetryPayload, payloadKind, telemetryEventSchema } from './telemetry-event.js'

const BRANCH = {
  request: 'sentinel.telemetry.RequestData',
  response: 'sentinel.telemetry.ResponseData',
  metric: 'sentinel.telemetry.MetricData',
} as const

/** The avsc type of TelemetryEvent's Avro record (use the serde for TelemetryEvent values). */
export const telemetryEventAvroType: avro.Type = avro.Type.forSchema(telemetryEventSchema)

type AvroRecord = Record<string, unknown>

/** Fills every absent optional field with null, recursively, as Avro needs. */
function withNulls(value: unknown, schema: avro.Schema): unknown {
  const type = schema as { type?: unknown; fields?: { name: string; type: avro.Schema }[] } | string | unknown[]
  if (Array.isArray(type)) {
    if (value === undefined || value === null) return null
    const branch = type.find((b) => b !== 'null')
    return branch === undefined ? value : withNulls(value, branch as avro.Schema)
  }
  if (typeof type === 'object' && type !== null && !Array.isArray(type) && type.type === 'record' && type.fields && typeof value === 'object' && value !== null) {
    const source = value as AvroRecord
    const out: AvroRecord = {}
    for (const field of type.fields) out[field.name] = withNulls(source[field.name], field.type)
    return out
  }
  return value
}

/** Drops null fields, recursively through records (maps keep their values: they are strings). */
function withoutNulls(value: AvroRecord): AvroRecord {
  const out: AvroRecord = {}
  for (const [name, field] of Object.entries(value)) {
    if (field === null || field === undefined) continue
    out[name] = typeof field === 'object' && !Array.isArray(field) && !isStringMap(name) ? withoutNulls(field as AvroRecord) : field
  }
  return out
}

function isStringMap(fieldName: string): boolean {
  return fieldName === 'tags' || fieldName === 'dimensions'
}

const dataSchemas = (telemetryEventSchema.fields.find((f) => f.name === 'data')?.type ?? []) as avro.schema.RecordType[]
const branchSchema = (fullName: string): avro.schema.RecordType => {
  const found = dataSchemas.find((s) => `sentinel.telemetry.${s.name}` === fullName)
  if (!found) throw new Error(`TelemetryEvent schema has no payload branch ${fullName}`)
  return found
}

export function toAvroRecord(event: TelemetryEvent): AvroRecord {
  const { data, ...rest } = event
  const branch = BRANCH[payloadKind(data)]
  const payload: AvroRecord = { ...data }
  if ('context' in data && data.context !== undefined) payload.context = JSON.stringify(data.context)
  const top = withNulls({ ...rest, data: undefined }, { ...telemetryEventSchema, fields: telemetryEventSchema.fields.filter((f) => f.name !== 'data') }) as AvroRecord
  return { ...top, data: { [branch]: withNulls(payload, branchSchema(branch)) } }
}

export function fromAvroRecord(record: AvroRecord): TelemetryEvent {
  const { data, ...rest } = record
  const wrapped = data as Record<string, AvroRecord>
  const [, payload] = Object.entries(wrapped)[0] ?? []
  if (!payload) throw new Error('TelemetryEvent record has no data payload')
  const plain = withoutNulls(payload)
  if (typeof plain.context === 'string') plain.context = JSON.parse(plain.context) as unknown
  return { ...withoutNulls(rest), data: plain as unknown as TelemetryPayload } as unknown as TelemetryEvent
}
