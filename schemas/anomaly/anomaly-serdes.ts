/**
 * Serdes of the anomalies topic. Raw Avro (no registry) is what the topic carried before the Schema
 * Registry; the registry form is the Confluent wire format that Kafka Connect, ksqlDB and
 * `kcat -s avro` read, and that lets AnomalyEvent.avsc evolve without breaking records already written.
 */
import { avroSerde } from '../avro-serde.js'
import { RegistryAvroSerde, type RegistryAvroSerdeOptions } from '../registry/registry-avro-serde.js'
import type { Serde } from '../serde.js'
import { type AnomalyEvent, anomalyEventSchema } from './anomaly-event.js'

/** Raw Avro binary of AnomalyEvent.avsc: readable only by a consumer that already has the schema. */
export function anomalyEventAvroSerde(): Serde<AnomalyEvent> {
  return avroSerde<AnomalyEvent>(anomalyEventSchema, { name: 'avro(AnomalyEvent)' })
}

/**
 * AnomalyEvent.avsc in the Schema Registry wire format, registered under the topic's subject
 * (`<topic>-value` by default) when the runtime prepares its sink topics at start.
 */
export function anomalyEventRegistrySerde(options: Omit<RegistryAvroSerdeOptions, 'schema'>): RegistryAvroSerde<AnomalyEvent> {
  // The schema as JSON (not the avsc Type) so the registry stores the .avsc text, docs included.
  return new RegistryAvroSerde<AnomalyEvent>({ ...options, schema: anomalyEventSchema })
}
