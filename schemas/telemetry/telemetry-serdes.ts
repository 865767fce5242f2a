/**
 * Serdes for TelemetryEvent. Both validate on the way in and on the way out, so an invalid event
 * becomes a SerdeError (naming field and reason) that the topology's error policy sends to the DLQ,
 * and never reaches a detector half-valid.
 */
import { avroSerde } from '../avro-serde.js'
import { RegistryAvroSerde, type RegistryAvroSerdeOptions } from '../registry/registry-avro-serde.js'
import { type Serde, SerdeError } from '../serde.js'
import { fromAvroRecord, telemetryEventAvroType, toAvroRecord } from './telemetry-avro.js'
import type { TelemetryEvent } from './telemetry-event.js'
import { formatIssues, validateTelemetryEvent } from './telemetry-validator.js'

function checked(name: string, value: unknown): TelemetryEvent {
  const result = validateTelemetryEvent(value)
  if (!result.ok) throw new SerdeError(name, `invalid TelemetryEvent: ${formatIssues(result.issues)}`)
  return result.event
}

/** UTF-8 JSON, validated against the edge schema (telemetry-validator.ts). */
export function telemetryJsonSerde(): Serde<TelemetryEvent> {
  const name = 'json(TelemetryEvent)'
  return {
    name,
    serialize(value) {
      return Buffer.from(JSON.stringify(checked(name, value)), 'utf8')
    },
    deserialize(data) {
      let parsed: unknown
      try {
        parsed = JSON.parse(data.toString('utf8'))
      } catch (err) {
        throw new SerdeError(name, `invalid JSON: ${(err as Error).message}`, { cause: err })
      }
      return checked(name, parsed)
    },
  }
}

/**
 * Raw Avro binary of TelemetryEvent.avsc (no Schema Registry framing). Values are the JSON-shaped
 * TelemetryEvent; the conversion to the Avro record (nulls, wrapped payload union) happens inside.
 */
export function telemetryAvroSerde(): Serde<TelemetryEvent> {
  return overAvroRecords(avroSerde<Record<string, unknown>>(telemetryEventAvroType, { name: 'avro(TelemetryEvent)' }))
}

/**
 * TelemetryEvent in the Confluent Schema Registry wire format (TelemetryEvent.avsc registered under
 * the topic's subject by default). Schema ids are resolved ahead of the hot path: the runtime
 * prepares sink topics at start and awaits an unknown writer id once per batch (see RegistryAvroSerde).
 */
export function telemetryRegistrySerde(options: Omit<RegistryAvroSerdeOptions, 'schema'>): Serde<TelemetryEvent> {
  return overAvroRecords(new RegistryAvroSerde<Record<string, unknown>>({ ...options, schema: telemetryEventAvroType }))
}

/** A TelemetryEvent serde over a serde of its Avro records: validation and conversion on both ways. */
function overAvroRecords(raw: Serde<Record<string, unknown>>): Serde<TelemetryEvent> {
  const name = raw.name
  const prepare = raw.prepare?.bind(raw)
  return {
    name,
    serialize(value, topic) {
      return raw.serialize(toAvroRecord(checked(name, value)), topic)
    },
    // Errors of the inner serde (an unknown schema id the runtime must fetch) pass through unwrapped.
    deserialize(data, topic) {
      const record = raw.deserialize(data, topic)
      let event: TelemetryEvent
      try {
        event = fromAvroRecord(record)
      } catch (err) {
        throw new SerdeError(name, `cannot convert the Avro record: ${(err as Error).message}`, { cause: err })
      }
      return checked(name, event)
    },
    ...(prepare ? { prepare } : {}),
  }
}
