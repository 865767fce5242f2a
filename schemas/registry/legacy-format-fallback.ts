/**
 * A registry serde that still reads what a topic carried before it moved to the registry: records
 * not in the Confluent wire format (no magic byte 0) are read with the topic's earlier plain serde.
 * Turning a registry on for an existing topic then breaks no reader that replays older records (a
 * restore, a reset, a new consumer group from the earliest offset). Writing always uses the registry.
 *
 * The test is the first byte: JSON starts with `{` or whitespace, and raw Avro of a record whose
 * first field is a non-empty string starts with its non-zero length, so neither is taken for the
 * wire format. A plain record that does start with 0 is read as the wire format and fails as such.
 */
import type { Serde } from '../serde.js'
import { WIRE_HEADER_BYTES } from './wire-format.js'

export function withLegacyFormatReads<T>(registry: Serde<T>, legacy: Serde<T>): Serde<T> {
  const isWireFormat = (data: Buffer): boolean => data.length >= WIRE_HEADER_BYTES && data[0] === 0
  return {
    name: registry.name,
    serialize: (value, topic) => registry.serialize(value, topic),
    deserialize: (data, topic) => (isWireFormat(data) ? registry.deserialize(data, topic) : legacy.deserialize(data, topic)),
    ...(registry.prepare ? { prepare: (topic?: string) => registry.prepare!(topic) } : {}),
  }
}
