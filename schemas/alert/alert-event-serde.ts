/**
 * The alerts topic's value serdes: AlertEvent as UTF-8 JSON (the same object webhook bodies carry;
 * the format without a schema registry), or AlertEvent.avsc in the Schema Registry wire format.
 * Reading JSON checks the fields every consumer relies on, so a foreign record on the topic is a bad
 * record (SerdeError) rather than an alert missing its id or actions; Avro is checked by its schema.
 */
import { jsonSerde } from '../json-serde.js'
import { RegistryAvroSerde, type RegistryAvroSerdeOptions } from '../registry/registry-avro-serde.js'
import { type Serde, SerdeError } from '../serde.js'
import type { AlertEvent } from './alert-event.js'
import { type AlertEventAvroRecord, alertEventSchema, fromAvroAlert, toAvroAlert } from './alert-event-avro.js'

const SEVERITIES = new Set(['info', 'warning', 'critical'])

function isAlertEvent(value: unknown): value is AlertEvent {
  if (typeof value !== 'object' || value === null) throw new Error('an AlertEvent must be a JSON object')
  const v = value as Record<string, unknown>
  for (const field of ['alert_id', 'rule_id', 'rule_name', 'timestamp', 'title', 'description'] as const)
    if (typeof v[field] !== 'string') throw new Error(`${field}: must be a string`)
  if (!SEVERITIES.has(v.severity as string)) throw new Error('severity: must be info | warning | critical')
  if (!Array.isArray(v.anomaly_ids)) throw new Error('anomaly_ids: must be a list')
  if (!Array.isArray(v.actions)) throw new Error('actions: must be a list')
  if (typeof v.anomaly !== 'object' || v.anomaly === null) throw new Error('anomaly: must be an object')
  if (typeof v.suppressed_count !== 'number') throw new Error('suppressed_count: must be a number')
  return true
}

export function alertEventSerde(): Serde<AlertEvent> {
  return jsonSerde<AlertEvent>({ name: 'json(AlertEvent)', validate: isAlertEvent })
}

/** AlertEvent.avsc in the registry wire format, registered under the topic's subject at start. */
export function alertEventRegistrySerde(options: Omit<RegistryAvroSerdeOptions, 'schema'>): Serde<AlertEvent> {
  const avro = new RegistryAvroSerde<AlertEventAvroRecord>({ ...options, schema: alertEventSchema })
  const name = avro.name
  return {
    name,
    serialize: (value, topic) => avro.serialize(toAvroAlert(value), topic),
    // Errors of the inner serde (a schema id to fetch first) pass through unwrapped for the runtime.
    deserialize(data) {
      const record = avro.deserialize(data)
      try {
        return fromAvroAlert(record)
      } catch (err) {
        throw new SerdeError(name, `cannot convert the Avro record: ${(err as Error).message}`, { cause: err })
      }
    },
    prepare: (topic) => avro.prepare(topic),
  }
}
