import { readInt64BE, writeInt64BE } from './int64.js'
import { type Serde, SerdeError } from './serde.js'

/**
 * A serde that also accepts a missing (null) key or value. Sources pass null bytes to it as `null`
 * instead of treating them as a bad record, and sinks write `null` as null bytes (a tombstone).
 */
export interface NullableSerde<T> extends Serde<T | null> {
  readonly nullable: true
}

export function isNullableSerde(serde: Serde<unknown>): serde is NullableSerde<unknown> {
  return (serde as Partial<NullableSerde<unknown>>).nullable === true
}

export function stringSerde(): Serde<string> {
  return {
    name: 'string',
    serialize: (value) => Buffer.from(value, 'utf8'),
    deserialize: (data) => data.toString('utf8'),
  }
}

/** Raw bytes, unchanged. */
export function bufferSerde(): Serde<Buffer> {
  return { name: 'bytes', serialize: (value) => value, deserialize: (data) => data }
}

/** IEEE-754 double, 8 bytes big-endian (Kafka's DoubleSerializer layout). */
export function doubleSerde(): Serde<number> {
  return {
    name: 'double',
    serialize(value) {
      const out = Buffer.allocUnsafe(8)
      out.writeDoubleBE(value, 0)
      return out
    },
    deserialize(data) {
      if (data.length !== 8) throw new SerdeError('double', `expected 8 bytes, got ${data.length}`)
      return data.readDoubleBE(0)
    },
  }
}

/**
 * A 64-bit signed integer, 8 bytes big-endian (Kafka's LongSerializer layout), as a JS number: values
 * outside ±2^53 cannot round-trip and are rejected rather than silently rounded.
 */
export function longSerde(): Serde<number> {
  return {
    name: 'long',
    serialize(value) {
      if (!Number.isSafeInteger(value)) throw new SerdeError('long', `${value} is not a safe integer`)
      const out = Buffer.allocUnsafe(8)
      writeInt64BE(out, value, 0)
      return out
    },
    deserialize(data) {
      if (data.length !== 8) throw new SerdeError('long', `expected 8 bytes, got ${data.length}`)
      const value = readInt64BE(data, 0)
      if (!Number.isSafeInteger(value)) {
        throw new SerdeError('long', `${data.readBigInt64BE(0)} is outside the safe integer range`)
      }
      return value
    },
  }
}

/** A 32-bit signed integer, 4 bytes big-endian (Kafka's IntegerSerializer layout). */
export function intSerde(): Serde<number> {
  return {
    name: 'int',
    serialize(value) {
      if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) {
        throw new SerdeError('int', `${value} is not a 32-bit integer`)
      }
      const out = Buffer.allocUnsafe(4)
      out.writeInt32BE(value, 0)
      return out
    },
    deserialize(data) {
      if (data.length !== 4) throw new SerdeError('int', `expected 4 bytes, got ${data.length}`)
      return data.readInt32BE(0)
    },
  }
}

/** Wraps a serde so that null keys/values (absent bytes) are allowed and typed as `null`. */
export function nullableSerde<T>(inner: Serde<T>): NullableSerde<T> {
  return {
    name: `nullable(${inner.name})`,
    nullable: true,
    // Sources and sinks handle null bytes before calling these; a null reaching here is a contract bug.
    serialize(value, topic) {
      if (value === null) throw new SerdeError(this.name, 'null must be written as absent bytes by the caller')
      return inner.serialize(value, topic)
    },
    deserialize: (data, topic) => inner.deserialize(data, topic),
    ...(inner.prepare ? { prepare: (topic?: string) => inner.prepare!(topic) } : {}),
  }
}
