/**
 * Serdes for TelemetryEvent. Both validate on the way in and on the way out, so an invalid event
 * becomes a SerdeError (naming field and reason) that the topology's error policy sends to the DLQ,
 * and never reaches a detector half-valid. Work done once is not done again:
 * - an event that has passed `validateTelemetryEvent` in this process (the API's edge check) is
 *   serialized without a second check (telemetry-validator.ts, `wasValidated`);
 * - JSON bytes this process encoded from such an event decode to that same event, once, without
 *   JSON.parse or validation: on the embedded log (standalone) the topology reads the very Buffer
 *   the API wrote (see `encodedHere`). Bytes from anywhere else (Kafka, a restart, a replay) are
 *   parsed and validated in full.
 */
import { avroSerde } from '../avro-serde.js'
import { RegistryAvroSerde, type RegistryAvroSerdeOptions } from '../registry/registry-avro-serde.js'
import { type Serde, SerdeError } from '../serde.js'
import { fromAvroRecord, telemetryEventAvroType, toAvroRecord } from './telemetry-avro.js'
import type { TelemetryEvent } from './telemetry-event.js'
import { formatIssues, validateTelemetryEvent, wasValidated } from './telemetry-validator.js'

function checked(name: string, value: unknown): TelemetryEvent {
  if (wasValidated(value)) return value
  const result = validateTelemetryEvent(value)
  if (!result.ok) throw new SerdeError(name, `invalid TelemetryEvent: ${formatIssues(result.issues)}`)
  return result.event
}

/**
 * JSON bytes encoded in this process from a validated event, to that event: shared by every JSON
 * telemetry serde instance (the API and the topology each build their own). An entry is taken on its
 * first decode, so an event is not kept alive for as long as the log retains its bytes (a second
 * read, e.g. after a rewind, parses as usual); entries of bytes never read go with the bytes.
 * Values in a topology are never mutated, so handing the topology the API's object is safe.
 */
const encodedHere = new WeakMap<Buffer, TelemetryEvent>()

/**
 * A valid event to JSON bytes it was read from or written as, by any JSON telemetry serde of this
 * process: an event forwarded on (the detection topology's repartition topics) need not be
 * stringified again, since those bytes parse to an equal event. Kept by identity, as long as the
 * event lives (the bytes are in the log anyway).
 */
const jsonBytes = new WeakMap<TelemetryEvent, Buffer>()

/** JSON bytes that parse to `event` (a valid event), when a JSON telemetry serde of this process has read or written it; else undefined. */
export function knownJsonBytes(event: TelemetryEvent): Buffer | undefined {
  return jsonBytes.get(event)
}

/** UTF-8 JSON, validated against the edge schema (telemetry-validator.ts). */
export function telemetryJsonSerde(): Serde<TelemetryEvent> {
  const name = 'json(TelemetryEvent)'
  return {
    name,
    serialize(value) {
      const bytes = Buffer.from(JSON.stringify(checked(name, value)), 'utf8')
      encodedHere.set(bytes, value)
      jsonBytes.set(value, bytes)
      return bytes
    },
    deserialize(data) {
      const known = encodedHere.get(data)
      if (known !== undefined) {
        encodedHere.delete(data)
        return known
      }
      let parsed: unknown
      try {
        parsed = JSON.parse(data.toString('utf8'))
      } catch (err) {
        throw new SerdeError(name, `invalid JSON: ${(err as Error).message}`, { cause: err })
      }
      const event = checked(name, parsed)
      jsonBytes.set(event, data)
      return event
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
